-- examples/line_chat.lua: a line-based chat server (framing.delimited)
-- with three clients on a simulated network.  Every line a client sends
-- is relayed to the others as "<name>: <line>".  Each connection is a
-- task; the server keeps the list of writers.
--
--   lua5.4 examples/line_chat.lua
local synack = require "synack"
local framing = require "synack.framing"

local net = synack.sim{ seed = 7, delay = 0.010 }
local server = net:host("10.0.0.100")
local lines = framing.delimited{ delimiter = "\n", max = 512 }

local members = {} -- name -> conn
local function broadcast(from, text)
  for name, conn in pairs(members) do
    if name ~= from then conn:write(lines.encode(from .. ": " .. text)) end
  end
end

local listener = server:listen(6667)
synack.spawn(function()
  while true do
    local conn = listener:accept()
    if not conn then return end
    synack.spawn(function()
      local name = conn:receive("*l")
      if not name then return conn:close() end
      members[name] = conn
      broadcast(name, "(joined)")
      while true do
        local line = conn:receive("*l")
        if not line then break end
        broadcast(name, line)
      end
      members[name] = nil
      broadcast(name, "(left)")
      conn:close()
    end)
  end
end)

local function member(addr, name, script)
  local host = net:host(addr)
  synack.spawn(function()
    local conn = assert(host:connect("10.0.0.100", 6667):wait_connected())
    conn:send(lines.encode(name))
    synack.spawn(function() -- print what the others say
      while true do
        local line = conn:receive("*l")
        if not line then return end
        print(("%6.3f  [%s sees] %s"):format(net:now(), name, line))
      end
    end)
    for _, step in ipairs(script) do
      synack.sleep(step[1])
      conn:send(lines.encode(step[2]))
    end
    synack.sleep(0.5)
    conn:shutdown()
  end)
end

member("10.0.0.1", "ada", { { 0.2, "hello, everyone" }, { 0.3, "anyone there?" } })
member("10.0.0.2", "bob", { { 0.35, "hi ada" } })
member("10.0.0.3", "cy", { { 0.6, "hello from cy" } })

net:run(5)
listener:close()
net:run()
