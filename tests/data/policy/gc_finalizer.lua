-- Lua runs __gc finalizers with debug hooks off, so a looping finalizer
-- would escape the limits: setmetatable refuses a metatable with __gc.
return {
  run = function()
    setmetatable({}, { __gc = function() while true do end end })
  end,
  later = function()
    -- __gc added after setmetatable never marks the table for finalization
    local mt = {}
    local t = setmetatable({}, mt)
    mt.__gc = function() while true do end end
    t = nil
    for i = 1, 20000 do local garbage = { i } end
    return "fine"
  end,
  ok = function() return 42 end,
}
