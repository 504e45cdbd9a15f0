-- Defines every hook of the API, each returning the wrong type.
return {
  close_batch = function(batch) return "yes" end,
  score_type = function(type, nodepool) return "high" end,
  order_offerings = function(claim, offerings) return { 1, 1, 9 } end,
  decorate_launch = function(claim)
    return { taints = { { key = "x", effect = "Sometimes" } } }
  end,
  recycle = function(node) return true end,
  headroom = function(nodepool) return { cpu = "12x" } end,
}
