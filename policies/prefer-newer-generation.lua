-- prefer-newer-generation.lua: buy the newest instance generation whose
-- offering costs at most 15 % more than the cheapest; newer generations
-- are usually faster per vCPU and get the new features first.
--
-- Hooks: score_type(type, nodepool) -> number (the type's generation),
--        order_offerings(claim, offerings) -> array of offering indices.

local policy = { name = "prefer-newer-generation" }

local PREMIUM = 0.15 -- how much more a newer generation may cost

function policy.score_type(type, nodepool)
  return type.generation
end

function policy.order_offerings(claim, offerings)
  local cheapest = math.huge
  for _, o in ipairs(offerings) do
    if o.price < cheapest then cheapest = o.price end
  end
  local limit = cheapest * (1 + PREMIUM)
  local order = {}
  for i = 1, #offerings do order[i] = i end
  table.sort(order, function(a, b)
    local x, y = offerings[a], offerings[b]
    local xin, yin = x.price <= limit, y.price <= limit
    if xin ~= yin then return xin end
    if xin and x.score ~= y.score then return x.score > y.score end
    if x.price ~= y.price then return x.price < y.price end
    return a < b
  end)
  return order
end

return policy
