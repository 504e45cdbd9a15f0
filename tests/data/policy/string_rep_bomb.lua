-- Asks for a one-gigabyte string in one call.
return {
  run = function()
    return string.rep("x", 1e9)
  end,
  ok = function() return 42 end,
}
