-- Tags every machine with its team and NodePool, labels it, and taints GPU
-- NodePools; used by tests/unit/test_launch.c through the Lua adapter.
local policy = { name = "decorate" }

function policy.decorate_launch(claim)
  return {
    tags = { ["cost-center"] = "ml-42", pool = claim.nodepool },
    labels = { ["example.com/team"] = "ml" },
    taints = { { key = "gpu", effect = "NoSchedule" } },
  }
end

return policy
