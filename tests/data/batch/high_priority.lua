-- Close the batch at once for a high-priority pod or a pod in namespace
-- "urgent", and never let a batch grow older than 2.5 s.
return {
  name = "batch-high-priority",
  close_batch = function(batch)
    if batch.max_priority >= 1000 then return true end
    for _, key in ipairs(batch.keys) do
      if key:sub(1, 7) == "urgent/" then return true end
    end
    return batch.age_seconds >= 2.5
  end,
}
