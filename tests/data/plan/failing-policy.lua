-- A policy whose hooks fail: score_type returns a string (wrong type) and
-- order_offerings raises an error. hoist plan must fall back to its
-- defaults, say so on stderr with the file and line, and still plan.
local policy = { name = "failing" }

function policy.score_type(type, nodepool)
  return "fast"
end

function policy.order_offerings(claim, offerings)
  error("no opinion today")
end

return policy
