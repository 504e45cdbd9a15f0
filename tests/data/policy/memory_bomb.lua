-- Grows a table until the memory limit stops it.
return {
  run = function()
    local t = {}
    local i = 0
    while true do
      i = i + 1
      t[i] = { i, i, i, i }
    end
  end,
  ok = function() return 42 end,
}
