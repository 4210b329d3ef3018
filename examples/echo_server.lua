-- examples/echo_server.lua: an echo server on a live network device.
-- Live: needs root (or CAP_NET_ADMIN); run it in a network namespace:
--
--   sudo ip netns add demo
--   sudo ip netns exec demo lua5.4 examples/echo_server.lua
--   sudo ip netns exec demo nc 192.0.2.2 7        # in another terminal
--
-- Options: [port] (default 7), --count N (stop after N connections),
-- --seconds S, and the device options of examples/netargs.lua.
package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local synack = require "synack"
local netargs = require "netargs"

local o = netargs.parse(arg)
local port = tonumber(o.rest[1] or 7)
local count = tonumber(o.count)
local stack = netargs.stack(o)
local served = 0

local listener = stack:listen(port, { on_accept = function(conn)
  local i = conn:info()
  print(("%s:%d connected"):format(i.remote_addr, i.remote_port))
  local w, pending, closing = 0, {}, false
  local function flush(c)
    while #pending > 0 do
      local n = c:write(pending[1])
      if not n then return end
      if n < #pending[1] then pending[1] = pending[1]:sub(n + 1) return end
      table.remove(pending, 1)
    end
    if closing then c:close() end
  end
  conn:on("data", function(c, chunk) w = w + #chunk; pending[#pending + 1] = chunk; flush(c) end)
  conn:on("drain", flush)
  conn:on("end", function(c) closing = true; flush(c) end)
  conn:on("close", function(_, err)
    served = served + 1
    print(("%s:%d done: %d bytes echoed%s"):format(i.remote_addr, i.remote_port, w,
      err and (", " .. err) or ""))
    if count and served >= count then synack.stop() end
  end)
end })
print(("echo server on %s port %d (%s)"):format(stack.addr, port, stack.ifname))
io.stdout:flush()
if o.seconds then synack.run(o.seconds) else synack.run(function() return false end) end
listener:close()
stack:close()
