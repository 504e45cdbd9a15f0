-- recycle-bad.lua: a recycle hook that fails in every way, chosen by node name
-- (test data for tests/unit/test_recycle_hook.c).
local policy = { name = "recycle-bad" }

function policy.recycle(node)
  if node.name == "n-number" then
    return 42
  elseif node.name == "n-empty" then
    return ""
  elseif node.name == "n-table" then
    return { why = "a table" }
  elseif node.name == "n-bool" then
    return true
  elseif node.name == "n-error" then
    error("cannot decide about " .. node.name)
  elseif node.name == "n-loop" then
    while true do end
  end
  return nil
end

return policy
