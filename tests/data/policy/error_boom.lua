-- Raises errors of several kinds.
return {
  run = function()
    error("boom")
  end,
  table_error = function()
    error({ code = 7 })
  end,
  runtime = function(t)
    return t.missing.field
  end,
  ok = function() return 42 end,
}
