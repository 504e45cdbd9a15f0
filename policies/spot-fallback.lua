-- spot-fallback.lua: spot first, cheapest first; on-demand only when no
-- spot offering is left (the provider walks the launch request in order, so
-- insufficient spot capacity falls back to on-demand in the same request).
--
-- Hook: order_offerings(claim, offerings) -> array of offering indices.

local policy = { name = "spot-fallback" }

function policy.order_offerings(claim, offerings)
  local order = {}
  for i = 1, #offerings do order[i] = i end
  table.sort(order, function(a, b)
    local x, y = offerings[a], offerings[b]
    local xs, ys = x.capacity_type == "spot", y.capacity_type == "spot"
    if xs ~= ys then return xs end
    if x.price ~= y.price then return x.price < y.price end
    return a < b
  end)
  return order
end

return policy
