-- Defines every hook of the API, each returning the right type.
local policy = { name = "check-all" }

function policy.close_batch(batch)
  return batch.max_priority >= 1000000 or batch.pods >= 100
end

function policy.score_type(type, nodepool)
  if type.burstable then return false end
  return type.vcpus * 10 + type.generation
end

function policy.order_offerings(claim, offerings)
  local order = {}
  for i = #offerings, 1, -1 do order[#order + 1] = i end
  return order
end

function policy.decorate_launch(claim)
  return {
    tags = { team = "platform", nodepool = claim.nodepool },
    labels = { ["example.com/batch"] = "true" },
    taints = { { key = "example.com/dedicated", value = "batch", effect = "NoSchedule" } },
  }
end

function policy.recycle(node)
  if node.family == "g5" and node.age_seconds > 7 * 86400 then
    return "g5 nodes are recycled after 7 days"
  end
end

function policy.headroom(nodepool)
  return { cpu = "4", memory = 8 * 1024 * 1024 * 1024 }
end

-- not part of the API: a warning, not an error
function policy.helper() return 1 end

return policy
