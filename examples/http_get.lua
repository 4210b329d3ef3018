-- examples/http_get.lua: an HTTP/1.0 GET with synack on a live device, in
-- the coroutine style; prints the status, the size and a digest of the
-- body (or saves it with --out FILE).
-- Live: needs root (or CAP_NET_ADMIN); run it in a network namespace:
--
--   sudo ip netns add demo
--   sudo ip netns exec demo python3 -m http.server 8000 --bind 192.0.2.1 &
--   sudo ip netns exec demo lua5.4 examples/http_get.lua http://192.0.2.1:8000/
--
-- Options: URL, --out FILE, --seconds S (default 30), and the device
-- options of examples/netargs.lua.
package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local synack = require "synack"
local netargs = require "netargs"

local o = netargs.parse(arg)
local url = o.rest[1] or "http://192.0.2.1:8000/"
local host, port, path = url:match("^http://([%d.]+):?(%d*)(/?.*)$")
if not host then
  io.stderr:write("usage: http_get.lua http://A.B.C.D[:port]/path (an address, no DNS)\n")
  os.exit(2)
end
port = tonumber(port) or 80
path = path ~= "" and path or "/"
local stack = netargs.stack(o)
local status, length, digest, failure, finished = nil, 0, nil, nil, false

synack.spawn(function()
  local conn = stack:connect(host, port)
  local ok, err = conn:wait_connected()
  if not ok then failure, finished = err, true return end
  assert(conn:send(("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: synack\r\n\r\n"):format(path, host)))
  status = conn:receive("*l")
  repeat local line = conn:receive("*l") until not line or line == ""
  local out = o.out and assert(io.open(o.out, "wb"))
  while true do
    local chunk, rerr, partial = conn:receive(65536)
    chunk = chunk or partial
    if chunk and #chunk > 0 then
      length = length + #chunk
      digest = synack.digest(chunk, digest)
      if out then out:write(chunk) end
    end
    if rerr then break end
  end
  if out then out:close() end
  conn:close()
  finished = true
end)

local done = synack.run(function() return finished end, o.seconds or 30)
if failure or not status then
  io.stderr:write("failed: " .. (failure or "no answer") .. "\n")
  os.exit(1)
end
print(status)
print(("%d bytes, digest %016x"):format(length, digest or 0))
stack:close()
os.exit(done and 0 or 1)
