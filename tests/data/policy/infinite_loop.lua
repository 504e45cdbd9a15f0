-- Loops forever in a hook; the budget must stop it.
return {
  run = function()
    while true do end
  end,
  ok = function() return 42 end,
}
