-- bench/mathis.lua SECONDS: bulk transfer in the simulator with 1 % loss
-- each way and a 10 ms round trip, for SECONDS of virtual time; its
-- goodput against the Mathis et al. bound (CCR 1997) for Reno-style
-- congestion control, MSS/RTT x C/sqrt(p) with C = sqrt(3/2).
local synack = require "synack"
local secs = tonumber(arg[1]) or 120
local loss, rtt = 0.01, 0.010
local net = synack.sim{ seed = 7, delay = rtt / 2, loss = loss }
local a, b = net:host("10.0.0.1"), net:host("10.0.0.2")
local got, start = 0, nil
local listener = b:listen(80, { on_accept = function(c)
  c:on("data", function(_, d)
    start = start or net:now()
    got = got + #d
  end)
end })
local chunk = string.rep("m", 65536)
local function fill(c) repeat local n = c:write(chunk) until not n or n < #chunk end
local conn = a:connect("10.0.0.2", 80, { on_connect = fill, on_drain = fill })
net:run(secs)
local mss = conn:info().mss
local t = net:now() - (start or 0)
local goodput = got * 8 / t / 1e6
local mathis = mss * 8 / rtt * math.sqrt(3 / 2) / math.sqrt(loss) / 1e6
print(("goodput_mbit_s %.2f mathis_mbit_s %.2f ratio %.2f mss %d seconds %.0f retransmits %d")
  :format(goodput, mathis, goodput / mathis, mss, t, a:stats().retransmits))
conn:abort()
