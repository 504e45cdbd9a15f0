-- require (and package) are not in the sandbox.
return {
  run = function()
    local socket = require("socket")
    return socket ~= nil
  end,
  ok = function() return 42 end,
}
