-- examples/teardown.lua: open connections to a server and tear them down,
-- some with RST (abort) and some with FIN (close), printing the stack's
-- connections() as ss -tan would after each step: who ends in TIME-WAIT,
-- and what a RST leaves behind (nothing).
-- Live: needs root; run it in a network namespace with a server in it:
--
--   sudo ip netns add demo
--   sudo ip netns exec demo python3 -m http.server 8000 --bind 192.0.2.1 &
--   sudo ip netns exec demo lua5.4 examples/teardown.lua 192.0.2.1 8000
--
-- Options: SERVER PORT, --count N (default 4), and the device options of
-- examples/netargs.lua.
package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local synack = require "synack"
local netargs = require "netargs"

local o = netargs.parse(arg)
local server, port = o.rest[1] or "192.0.2.1", tonumber(o.rest[2] or 8000)
local n = tonumber(o.count or 4)
local stack = netargs.stack(o)
local conns = {}
for i = 1, n do conns[i] = stack:connect(server, port) end
synack.run(function()
  for _, c in ipairs(conns) do
    if c:info().state ~= "ESTABLISHED" then return false end
  end
  return true
end, 5)
print(("-- %d connections open"):format(n))
netargs.ss(stack)

for i = 1, n // 2 do conns[i]:abort() end
synack.run(0.2)
print(("\n-- the first %d aborted: a RST each, and they are gone"):format(n // 2))
netargs.ss(stack)

for i = n // 2 + 1, n do conns[i]:close() end
synack.run(function()
  for i = n // 2 + 1, n do
    if conns[i]:info().state ~= "TIME-WAIT" then return false end
  end
  return true
end, 5)
print(("\n-- the other %d closed with a FIN: this side closed first, so it waits in TIME-WAIT"):format(n - n // 2))
netargs.ss(stack)
local st = stack:stats()
print(("\nRSTs sent %d, FIN-closed %d, in TIME-WAIT now %d"):format(st.rst_sent, n - n // 2, st.time_wait))
stack:close()
