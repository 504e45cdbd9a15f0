-- no-recycle.lua: a policy without a recycle hook (test data).
return { name = "no-recycle", close_batch = function(batch) return false end }
