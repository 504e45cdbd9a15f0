-- headroom.lua: keep 10 % of each NodePool's CPU and memory free for bursts,
-- without placeholder pods (what Clusterman's setpoint gave and Karpenter
-- lacks). hoist treats the headroom as capacity that must stay unused: it
-- buys ahead when pods eat into it, and consolidation never removes it.
--
-- Hook: headroom(nodepool) -> {cpu = q, memory = q}.

local policy = { name = "headroom" }

local SHARE = 0.10

-- Parse the quantities hoist passes ("64", "256Gi", "500m") into numbers of
-- cores and bytes.
local UNITS = { m = 1e-3, k = 1e3, M = 1e6, G = 1e9, T = 1e12,
                Ki = 2^10, Mi = 2^20, Gi = 2^30, Ti = 2^40 }
local function quantity(q)
  if type(q) == "number" then return q end
  local num, unit = tostring(q):match("^([%d%.]+)(%a*)$")
  if not num then return 0 end
  return tonumber(num) * (UNITS[unit] or 1)
end

function policy.headroom(nodepool)
  local cap = nodepool.capacity or {}
  return {
    cpu = quantity(cap.cpu or 0) * SHARE,
    memory = math.floor(quantity(cap.memory or 0) * SHARE),
  }
end

return policy
