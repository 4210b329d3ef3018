-- bench/echo.lua MB: an echo over one connection in the simulator (no
-- delay, no impairment), driven from Lua callbacks; bench/echo_c.c does
-- the same from C.  Prints "mb_s <rate> bytes <n> seconds <t>".
local synack = require "synack"
local total = math.floor((tonumber(arg[1]) or 64) * 1000000)
local net = synack.sim{ seed = 1 }
local a, b = net:host("10.0.0.1"), net:host("10.0.0.2")
local chunk = string.rep("e", 65536)
local listener = b:listen(7, { on_accept = function(c)
  local pending, first, last, at = {}, 1, 0, 1 -- a queue; where its head is
  local function flush()
    while pending[first] do
      local d = pending[first]
      at = at + c:write(d, at)
      if at <= #d then return end -- the rest when the buffer drains
      pending[first], first, at = nil, first + 1, 1
    end
  end
  c:on("data", function(_, d) last = last + 1; pending[last] = d; flush() end)
  c:on("drain", flush)
end })
local sent, echoed = 0, 0
local function fill(c)
  while sent < total do
    local n = c:write(chunk, 1, math.min(#chunk, total - sent))
    sent = sent + n
    if n < #chunk then return end
  end
end
local clock = os.clock
local t0 = os.time()
local w0 = require("synack.core").live_now()
local client = a:connect("10.0.0.2", 7, { on_connect = fill, on_drain = fill,
  on_data = function(_, d) echoed = echoed + #d end })
net:run(function() return echoed >= total end)
local t = require("synack.core").live_now() - w0
print(("mb_s %.1f bytes %d seconds %.3f"):format(echoed / t / 1e6, echoed, t))
