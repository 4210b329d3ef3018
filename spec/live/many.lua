-- spec/live/many.lua SERVER PORT COUNT [device options]: COUNT short
-- connections from synack to a kernel echo server, one after another;
-- each sends a line and waits for it back, then closes first.  Prints
-- "ok <n>" and the stack's rows in TIME-WAIT.
package.path = "examples/?.lua;" .. package.path
local synack = require "synack"
local netargs = require "netargs"

local o = netargs.parse(arg)
local server, port, count = o.rest[1], tonumber(o.rest[2]), tonumber(o.rest[3])
local stack = netargs.stack(o)
local ok, finished = 0, false
synack.spawn(function()
  for i = 1, count do
    local c = stack:connect(server, port)
    if c:wait_connected() then
      local line = ("hello %d\n"):format(i)
      c:send(line)
      if c:receive("*l") == line:sub(1, -2) then ok = ok + 1 end
    end
    c:close()
  end
  finished = true
end)
synack.run(function() return finished end, 60)
synack.run(0.2) -- the last FIN exchange
local tw = 0
for _, r in ipairs(stack:connections()) do
  if r.state == "TIME-WAIT" then tw = tw + 1 end
end
print(("ok %d time_wait %d"):format(ok, tw))
stack:close()
