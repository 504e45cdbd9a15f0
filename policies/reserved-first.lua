-- reserved-first.lua: use capacity already paid for before buying more.
-- Reserved offerings (On-Demand Capacity Reservations, capacity blocks) come
-- first whatever their listed price; then families a Savings Plan covers,
-- compared at their discounted price; then everything else by price.
--
-- A NodePool must allow the "reserved" capacity type for reserved offerings
-- to reach this hook (requirement hoist.dev/capacity-type In [reserved, ...]).
--
-- Hook: order_offerings(claim, offerings) -> array of offering indices.

local policy = { name = "reserved-first" }

-- Families covered by a Compute or EC2 Instance Savings Plan, and the
-- discount it gives on their on-demand price (edit to match your plans).
local SAVINGS_PLAN = { m6i = 0.28, c6i = 0.28 }

local function effective_price(o)
  local discount = SAVINGS_PLAN[o.family]
  if discount and o.capacity_type == "on-demand" then
    return o.price * (1 - discount)
  end
  return o.price
end

function policy.order_offerings(claim, offerings)
  local order = {}
  for i = 1, #offerings do order[i] = i end
  table.sort(order, function(a, b)
    local x, y = offerings[a], offerings[b]
    local xr, yr = x.capacity_type == "reserved", y.capacity_type == "reserved"
    if xr ~= yr then return xr end
    local px, py = effective_price(x), effective_price(y)
    if px ~= py then return px < py end
    return a < b
  end)
  return order
end

return policy
