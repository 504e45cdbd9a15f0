-- A close_batch hook returning the wrong type: the default rules must decide.
return {
  close_batch = function(batch)
    return "yes, " .. batch.pods .. " pods"
  end,
}
