-- examples/syn_scan.lua: a SYN scan, like nmap -sS, with raw segments from
-- a live synack stack: a SYN to each port; a SYN-ACK means open (the
-- stack answers it with a RST, having no connection for it, as a kernel
-- does), a RST means closed, silence after a second try means filtered.
-- Live: needs root; scan only hosts in a network namespace you made:
--
--   sudo ip netns add demo
--   sudo ip netns exec demo python3 -m http.server 8000 --bind 192.0.2.1 &
--   sudo ip netns exec demo lua5.4 examples/syn_scan.lua 192.0.2.1 20-25,80,8000
--
-- Options: TARGET [PORTS], --seconds S (wait per try, default 1), and the
-- device options of examples/netargs.lua.
package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local synack = require "synack"
local netargs = require "netargs"

local services = { [21] = "ftp", [22] = "ssh", [23] = "telnet", [25] = "smtp", [53] = "domain",
                   [80] = "http", [443] = "https", [8000] = "http-alt", [8080] = "http-proxy" }

local o = netargs.parse(arg)
local target = o.rest[1] or "192.0.2.1"
local ports = {}
for range in (o.rest[2] or "20-25,80,443,8000,8080"):gmatch("[^,]+") do
  local lo, hi = range:match("^(%d+)%-(%d+)$")
  lo, hi = tonumber(lo or range), tonumber(hi or range)
  for p = lo, hi do ports[#ports + 1] = p end
end
local stack = netargs.stack(o)
local trace = stack:trace()
local sport = 40000 + math.random(0, 20000)
local state = {}

for try = 1, 2 do
  for _, p in ipairs(ports) do
    if not state[p] then
      stack:send{ to = target, sport = sport, dport = p, flags = "S",
                  seq = math.random(0, 2^32 - 1), options = { mss = 1460 } }
    end
  end
  synack.run(o.seconds or 1)
  for i = 1, #trace do
    local s = trace[i]
    if s.dir == "in" and s.from == target and s.dport == sport and not state[s.sport] then
      if s.flags == "S." then state[s.sport] = "open"
      elseif s.flags:find("R") then state[s.sport] = "closed" end
    end
  end
end

print(("synack SYN scan of %s: %d ports"):format(target, #ports))
print("PORT       STATE     SERVICE")
local counts = {}
for _, p in ipairs(ports) do
  local st = state[p] or "filtered"
  counts[st] = (counts[st] or 0) + 1
  print(("%-10s %-9s %s"):format(p .. "/tcp", st, services[p] or "unknown"))
end
print(("%d open, %d closed, %d filtered"):format(counts.open or 0, counts.closed or 0,
                                                 counts.filtered or 0))
stack:close()
