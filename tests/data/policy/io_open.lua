-- io is not in the sandbox.
return {
  run = function()
    local f = io.open("/etc/passwd")
    return f:read("a")
  end,
  ok = function() return 42 end,
}
