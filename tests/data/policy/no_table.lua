-- Forgets to return the hooks table.
local function run() return 1 end
