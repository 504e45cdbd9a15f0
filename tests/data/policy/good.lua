-- Well-behaved hooks for conversion tests.
return {
  name = "good",
  echo = function(x) return x end,
  pair = function(a, b) return { a == nil, b } end,
  nothing = function() end,
  empty = function() return {} end,
  sparse = function() return { [1] = "a", [3] = "c" } end,
  floats = function() return { 2.0, 3, 0.5, math.maxinteger } end,
  sandbox = function()
    local present = {}
    for _, name in ipairs({ "io", "package", "debug", "coroutine", "require",
                            "dofile", "loadfile", "warn" }) do
      if _G[name] ~= nil then present[#present + 1] = name end
    end
    for name in pairs(os) do
      if name ~= "time" and name ~= "clock" then present[#present + 1] = "os." .. name end
    end
    if string.dump ~= nil then present[#present + 1] = "string.dump" end
    return { present = present, time = type(os.time()), clock = type(os.clock()),
             utf8 = utf8.char(72, 105), math = math.floor(3.7), table = table.concat({ "a", "b" }, ",") }
  end,
  gc_stop = function() collectgarbage("stop") end,
  gc_count = function() return collectgarbage("count") > 0 end,
}
