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
  -- Flow control: when the send buffer cannot take a whole chunk, the rest
  -- waits here and the "data" handler comes off, so what the client sends
  -- meanwhile stays in the receive buffer and the window tells it to wait.
  -- Memory stays bounded by the two buffers, however fast the client is.
  local w, rest, at, ended = 0, nil, 1, false
  local echo
  local function finish(c) -- after the client's FIN, once all is echoed
    if ended and not rest and c:info().recv_queue == 0 then c:close() end
  end
  function echo(c, chunk)
    w = w + #chunk
    local n = c:write(chunk)
    if not n then return end
    if n < #chunk then
      rest, at = chunk, n + 1
      c:on("data", nil)
    end
    finish(c)
  end
  conn:on("data", echo)
  conn:on("drain", function(c)
    if not rest then return end
    local n = c:write(rest, at)
    if not n then return end
    at = at + n
    if at > #rest then
      rest = nil
      c:on("data", echo) -- hands over what waited
      finish(c)
    end
  end)
  conn:on("end", function(c) ended = true; finish(c) end)
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
