-- Closes only when the batch table has exactly the shape and values the
-- test set up: 150 pods, keys capped at 100, float seconds.
return {
  close_batch = function(batch)
    if batch.pods == 1 then return nil end       -- wrong type: a failure
    if batch.pods == 2 then error("two pods") end -- an error: a failure
    return batch.pods == 150 and #batch.keys == 100
      and batch.keys[1] == "ns/p0" and batch.keys[100] == "ns/p99"
      and math.type(batch.age_seconds) == "float" and batch.age_seconds == 0.4
      and batch.idle_seconds == 0.25 and batch.max_priority == 149
  end,
}
