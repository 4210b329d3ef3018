-- examples/kv_framed.lua: a request/response protocol on length-prefixed
-- frames (synack.framing), written in the coroutine style.  A key-value
-- server answers "SET k v", "GET k" and "DEL k"; a client sends a few
-- requests over a lossy simulated link and prints the answers.  Frames
-- survive any segmentation: the decoder is fed whatever the stream
-- delivers.
--
--   lua5.4 examples/kv_framed.lua
local synack = require "synack"
local framing = require "synack.framing"

local net = synack.sim{ seed = 42, delay = 0.005, loss = 0.05 }
local server = net:host("10.0.0.2")
local client = net:host("10.0.0.1")

-- Reads whole frames from a connection inside a task.
local function frames(conn, codec)
  local queue = {}
  return function()
    while #queue == 0 do
      local chunk, err = conn:receive(1) -- whatever arrives, byte by byte at worst
      if not chunk then return nil, err end
      chunk = chunk .. (conn:read() or "")
      local msgs, ferr = codec:push(chunk)
      if not msgs then return nil, ferr end
      for _, m in ipairs(msgs) do queue[#queue + 1] = m end
    end
    return table.remove(queue, 1)
  end
end

local listener = server:listen(7000)
synack.spawn(function() -- the server: one task per connection
  while true do
    local conn = listener:accept()
    if not conn then return end
    synack.spawn(function()
      local codec = framing.length_prefixed{ bytes = 2, max = 1024 }
      local store = {}
      for req in frames(conn, codec) do
        local op, k, v = req:match("^(%u+) (%S+) ?(.*)$")
        local reply
        if op == "SET" then store[k] = v; reply = "OK"
        elseif op == "GET" then reply = store[k] and ("VALUE " .. store[k]) or "NOT_FOUND"
        elseif op == "DEL" then reply = store[k] and "DELETED" or "NOT_FOUND"; store[k] = nil
        else reply = "ERROR unknown request" end
        assert(conn:send(codec.encode(reply)))
      end
      conn:close()
    end)
  end
end)

synack.spawn(function() -- the client
  local conn = assert(client:connect("10.0.0.2", 7000):wait_connected())
  local codec = framing.length_prefixed{ bytes = 2, max = 1024 }
  local replies = frames(conn, codec)
  for _, req in ipairs { "SET color blue", "GET color", "GET size", "DEL color",
                         "GET color", "PING" } do
    assert(conn:send(codec.encode(req)))
    print(("%-16s -> %s"):format(req, replies()))
  end
  conn:close()
  listener:close()
end)

net:run()
print(("done at %.3f s of virtual time"):format(net:now()))
