-- lowest-price.lua: buy the cheapest offering of the claim, whatever its
-- capacity type (hoist's default prefers nothing but price either; this
-- policy makes the rule explicit and ignores pool depth).
--
-- Hook: order_offerings(claim, offerings) -> array of offering indices.

local policy = { name = "lowest-price" }

function policy.order_offerings(claim, offerings)
  local order = {}
  for i = 1, #offerings do order[i] = i end
  table.sort(order, function(a, b)
    local x, y = offerings[a], offerings[b]
    if x.price ~= y.price then return x.price < y.price end
    return a < b
  end)
  return order
end

return policy
