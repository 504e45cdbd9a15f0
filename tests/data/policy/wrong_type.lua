-- Hooks that return values JSON cannot hold, or the wrong type for the API.
local cyclic = {}
cyclic.self = cyclic
return {
  run = function() return function() end end,
  nested_function = function() return { tags = { owner = print } } end,
  cyclic = function() return cyclic end,
  deep = function()
    local t = {}
    for _ = 1, 100 do t = { t } end
    return t
  end,
  bad_key = function() return { [true] = 1 } end,
  nan = function() return 0 / 0 end,
  score_type = function(type, nodepool) return "high" end,
  ok = function() return 42 end,
}
