-- A decorate_launch hook that returns a taint without an effect: the
-- launch must go out with hoist's own tags, labels and taints.
local policy = { name = "decorate-bad" }

function policy.decorate_launch(claim)
  return { labels = { team = "ml" }, taints = { { key = "gpu" } } }
end

return policy
