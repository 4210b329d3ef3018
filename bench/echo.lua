-- bench/echo.lua MB: an echo over one connection in the simulator (no
-- delay, no impairment), driven from Lua callbacks; bench/echo_c.c does
-- the same from C.  Prints "mb_s <rate> bytes <n> seconds <t>".
local synack = require "synack"
local total = math.floor((tonumber(arg[1]) or 64) * 1000000)
local net = synack.sim{ seed = 1 }
local a, b = net:host("10.0.0.1"), net:host("10.0.0.2")
local chunk = string.rep("e", 65536)
-- The server writes back each chunk; what the send buffer does not take
-- waits, and reading stops meanwhile (no "data" handler: the data stays
-- in the receive buffer and the window closes), as the C echo does.
local listener = b:listen(7, { on_accept = function(c)
  local rest, at
  local function echo(_, d)
    local n = c:write(d)
    if n < #d then
      rest, at = d, n + 1
      c:on("data", nil)
    end
  end
  c:on("data", echo)
  c:on("drain", function()
    if not rest then return end
    at = at + c:write(rest, at)
    if at > #rest then
      rest = nil
      c:on("data", echo) -- hands over what waited in the buffer
    end
  end)
end })
local sent, echoed = 0, 0
local function fill(c)
  while sent < total do
    local n = c:write(chunk, 1, math.min(#chunk, total - sent))
    sent = sent + n
    if n < #chunk then return end
  end
end
local w0 = require("synack.core").live_now()
local client = a:connect("10.0.0.2", 7, { on_connect = fill, on_drain = fill,
  on_data = function(_, d) echoed = echoed + #d end })
net:run(function() return echoed >= total end)
local t = require("synack.core").live_now() - w0
print(("mb_s %.1f bytes %d seconds %.3f"):format(echoed / t / 1e6, echoed, t))
