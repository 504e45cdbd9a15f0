-- recycle-echo.lua: recycles every node, giving back what it saw of it
-- (test data for tests/unit/test_recycle_hook.c).
local policy = { name = "recycle-echo" }

function policy.recycle(node)
  return string.format("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
    node.name, node.nodepool, node.instance_type, node.family, math.type(node.generation),
    node.generation, node.zone, node.capacity_type, math.type(node.age_seconds),
    node.age_seconds, string.format("%.3f", node.price), node.pods)
    .. "|" .. tostring(node.labels["hoist.dev/nodepool"])
end

return policy
