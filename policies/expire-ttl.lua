-- expire-ttl.lua: replace every machine older than a time to live (here 7
-- days), whatever its family: machines pick up new images and kernels, and
-- long-lived drift never builds up. Like NodePool expireAfter, but in a
-- policy that can make exceptions (here: GPU machines are left alone).
--
-- Hook: recycle(node) -> nil (keep) or a string (why it must be replaced).

local policy = { name = "expire-ttl" }

local TTL_SECONDS = 7 * 86400

function policy.recycle(node)
  if node.family:sub(1, 1) == "g" or node.family:sub(1, 1) == "p" then
    return nil
  end
  if node.age_seconds > TTL_SECONDS then
    return "expired: older than 7 days"
  end
  return nil
end

return policy
