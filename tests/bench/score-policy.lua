-- score-policy.lua: the per-instance-type Lua scoring hook of issue 4's
-- overhead benchmark. It prefers newer generations and more memory per
-- vCPU, and drops nothing: the plan stays comparable with the C-only one.
local policy = { name = "bench-score" }

function policy.score_type(type, nodepool)
  return type.generation * 10 + type.memory_mib / (1024 * math.max(type.vcpus, 1))
end

return policy
