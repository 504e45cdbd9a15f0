-- recycle-family.lua: replace machines of one instance family once they are
-- older than a set age (here: G5 GPU machines after 14 days, e.g. to move a
-- fleet onto a newer family or to refresh drivers). The replacement goes
-- through hoist's disruption budgets and PodDisruptionBudgets.
--
-- Hook: recycle(node) -> nil (keep) or a string (why it must be replaced).

local policy = { name = "recycle-family" }

local FAMILY = "g5"
local MAX_AGE_DAYS = 14

function policy.recycle(node)
  if node.family == FAMILY and node.age_seconds > MAX_AGE_DAYS * 86400 then
    return string.format("family %s is recycled after %d days (node is %.1f days old)",
                         FAMILY, MAX_AGE_DAYS, node.age_seconds / 86400)
  end
  return nil
end

return policy
