-- Recycle every node older than an hour (test policy for test_pipeline).
return {
  name = "recycle-old",
  recycle = function(node)
    if node.age_seconds > 3600 then
      return "older than an hour"
    end
    return nil
  end,
}
