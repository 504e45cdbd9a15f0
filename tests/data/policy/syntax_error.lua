-- A syntax error on line 3.
return {
  run = function() return 1 +  end,
}
