-- policies/README.md's example per hook (checked by tests/e2e/test_cli_plan).
local p = { name = "examples" }

-- batch: close at once for a high-priority pod, never wait past 3 s
function p.close_batch(batch)
  return batch.max_priority >= 1000000 or batch.age_seconds >= 3
end

-- filter and score instance types per NodePool: no burstable types in
-- "prod", Graviton preferred everywhere
function p.score_type(type, nodepool)
  if nodepool.name == "prod" and type.burstable then return false end
  if type.architecture == "arm64" then return 10 end
  return nil
end

-- order a claim's offerings: reserved capacity first, then spot, then price
function p.order_offerings(claim, offerings)
  local order = {}
  for i = 1, #offerings do order[i] = i end
  local rank = { reserved = 0, spot = 1, ["on-demand"] = 2 }
  table.sort(order, function(a, b)
    local x, y = offerings[a], offerings[b]
    if rank[x.capacity_type] ~= rank[y.capacity_type] then
      return rank[x.capacity_type] < rank[y.capacity_type]
    end
    if x.price ~= y.price then return x.price < y.price end
    return a < b
  end)
  return order
end

-- decorate a launch: cost-allocation tags and a label for the team
function p.decorate_launch(claim)
  return { tags = { ["cost-center"] = "platform", nodepool = claim.nodepool },
           labels = { team = "platform" } }
end

-- recycle: replace G5 machines after 14 days
function p.recycle(node)
  if node.family == "g5" and node.age_seconds > 14 * 86400 then
    return "g5 nodes are replaced after 14 days"
  end
  return nil
end

-- headroom: keep 4 CPUs and 16 GiB free in "web" for bursts
function p.headroom(nodepool)
  if nodepool.name == "web" then return { cpu = "4", memory = "16Gi" } end
  return {}
end

return p
