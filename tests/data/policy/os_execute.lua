-- os.execute is not in the sandbox.
return {
  run = function()
    return os.execute("touch /tmp/hoist-policy-escaped")
  end,
  ok = function() return 42 end,
}
