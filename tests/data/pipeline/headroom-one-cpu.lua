-- Keep one CPU and 1 GiB free in every NodePool (test policy for test_pipeline).
return {
  name = "headroom-one-cpu",
  headroom = function(nodepool)
    return { cpu = "1", memory = "1Gi" }
  end,
}
