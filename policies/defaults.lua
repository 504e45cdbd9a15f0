-- defaults.lua: hoist's built-in decisions written out in Lua, to copy and
-- edit. Loading it changes nothing: every hook returns what the C default
-- would decide (tests/scenario/policies/defaults shows the same plan).

local policy = { name = "defaults" }

-- Batching: close the pending-pod batch after 1 s without a new pod, or
-- 10 s after its first pod.
function policy.close_batch(batch)
  return batch.idle_seconds >= 1 or batch.age_seconds >= 10
end

-- Instance types: every type the NodePool's requirements allow, no
-- preference among them.
function policy.score_type(type, nodepool)
  return nil
end

-- Offerings: cheapest first (ties: instance type, zone, capacity type, in
-- the order hoist listed them).
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

-- Launch: no extra tags, labels or taints beyond hoist's own.
function policy.decorate_launch(claim)
  return {}
end

-- Recycling: no node is replaced for its age or family by default.
function policy.recycle(node)
  return nil
end

-- Headroom: no spare capacity is kept.
function policy.headroom(nodepool)
  return { cpu = 0, memory = 0 }
end

return policy
