-- price-capacity-optimized.lua: among the offerings priced within 10 % of
-- the cheapest, take the deepest pool first (EC2 Fleet's spot default):
-- a little more money for far fewer interruptions.
--
-- Hook: order_offerings(claim, offerings) -> array of offering indices.

local policy = { name = "price-capacity-optimized" }

local BAND = 0.10 -- how far above the cheapest an offering may be

function policy.order_offerings(claim, offerings)
  local cheapest = math.huge
  for _, o in ipairs(offerings) do
    if o.price < cheapest then cheapest = o.price end
  end
  local limit = cheapest * (1 + BAND)
  local order = {}
  for i = 1, #offerings do order[i] = i end
  table.sort(order, function(a, b)
    local x, y = offerings[a], offerings[b]
    local xin, yin = x.price <= limit, y.price <= limit
    if xin ~= yin then return xin end
    if xin and x.capacity_score ~= y.capacity_score then
      return x.capacity_score > y.capacity_score
    end
    if x.price ~= y.price then return x.price < y.price end
    return a < b
  end)
  return order
end

return policy
