-- examples/handshake.lua: the life of one TCP connection on a simulated
-- network with 10 ms each way. A client connects, sends a line, the server
-- echoes it uppercased, the client closes. Every segment is printed as
-- tcpdump -n prints it, with each side's state changes in between, until
-- the client's TIME-WAIT ends 2 MSL (60 s of virtual time) later.
--
--   lua5.4 examples/handshake.lua
local synack = require "synack"
local tcpdump = require "synack.trace"

local net = synack.sim{ seed = 1, delay = 0.010 }
local client = net:host("10.0.0.1")
local server = net:host("10.0.0.2")
local trace = net:trace() -- every packet the switch carries from now on

-- The story, collected as it happens and told in time order at the end.
local story = {}
local function note(t, kind, text)
  story[#story + 1] = { t = t, kind = kind, n = #story, text = text }
end
local function states(who)
  return function(conn, new, old, t)
    local i = conn:info()
    note(t, 1, ("%-6s %s.%d: %s -> %s"):format(who, i.local_addr, i.local_port, old, new))
  end
end

server:listen(80, {
  on_accept = function(conn)
    conn:on("state", states("server"))
    conn:on("data", function(c, line) c:write(line:upper()) end)
    conn:on("end", function(c) c:close() end) -- the client is done: so are we
  end,
})

local conn = client:connect("10.0.0.2", 80, {
  on_state = states("client"),
  on_connect = function(c) c:write("hello, synack\n") end,
  on_data = function(c, reply)
    note(net:now(), 1, ("client reads %q"):format(reply:gsub("\n$", "")))
    c:close()
  end,
})

net:run() -- until nothing is left to do: TIME-WAIT has expired

local isn = {}
for i = 1, #trace do
  local s = trace[i]
  tcpdump.learn(s, isn)
  note(s.t, 2, tcpdump.line(s, isn))
end
table.sort(story, function(a, b)
  if a.t ~= b.t then return a.t < b.t end
  if a.kind ~= b.kind then return a.kind < b.kind end
  return a.n < b.n
end)

print(("synack %s: 10.0.0.1 talks to 10.0.0.2:80, 10 ms each way\n"):format(synack.version))
for _, line in ipairs(story) do
  print(line.kind == 2 and line.text or ("%.6f  %s"):format(line.t, line.text))
end
print(("\n%.3f s of virtual time; the client's connection is %s."):format(net:now(), conn:info().state))
