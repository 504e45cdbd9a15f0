-- Busy for about 10 ms of CPU time per call.
return {
  run = function()
    local t0 = os.clock()
    local n = 0
    while os.clock() - t0 < 0.010 do n = n + 1 end
    return n > 0
  end,
}
