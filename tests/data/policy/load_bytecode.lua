-- A binary chunk given to load is refused, whatever mode is asked for;
-- string.dump, which would make one, is gone.
return {
  run = function()
    local f, msg = load("\27LuaT\0\25\147\r\n\26\n", "=evil", "b")
    if not f then error(msg) end
    return f()
  end,
  dump = function()
    return string.dump(function() end)
  end,
  text = function()
    local f = assert(load("return 6 * 7"))
    return f()
  end,
  ok = function() return 42 end,
}
