-- no-burstable.lua: never buy burstable (t-family) or bare-metal machines
-- for this cluster, and prefer types with more network bandwidth per vCPU.
--
-- Hook: score_type(type, nodepool) -> false (drop) or a number (score).

local policy = { name = "no-burstable" }

function policy.score_type(type, nodepool)
  if type.burstable or type.bare_metal then
    return false
  end
  return type.network_bandwidth_mbps / math.max(type.vcpus, 1)
end

return policy
