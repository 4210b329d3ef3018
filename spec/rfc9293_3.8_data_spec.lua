-- RFC 9293 §3.8: data communication: cumulative acknowledgment, the
-- peer's window, and delivery to the user in order.
local H = require "helper"

describe("RFC 9293 §3.8 data communication", function()
  it("carries a line both ways: the server echoes it uppercased", function()
    local net, client, server = H.pair()
    server:listen(80, { on_accept = function(c)
      c:on("data", function(conn, chunk) conn:write(chunk:upper()) end)
    end })
    local reply = {}
    client:connect(H.SERVER, 80, {
      on_connect = function(c) c:write("hello, synack\n") end,
      on_data = function(_, chunk) reply[#reply + 1] = chunk end,
    })
    net:run(0.1)
    assert.equal("HELLO, SYNACK\n", table.concat(reply))
  end)

  it("moves 1 MiB intact in both directions", function()
    local net, client, server = H.pair()
    H.echo(server)
    local payload = {}
    for i = 1, 1024 do payload[i] = string.format("%08d", i) .. string.rep(".", 1015) .. "\n" end
    payload = table.concat(payload)
    local sent, got = 0, {}
    local conn
    local function pump(c)
      while sent < #payload do
        local n = assert(c:write(payload:sub(sent + 1, sent + 65536)))
        if n == 0 then return end
        sent = sent + n
      end
    end
    conn = client:connect(H.SERVER, 80, {
      on_connect = pump, on_drain = pump,
      on_data = function(_, chunk) got[#got + 1] = chunk end,
    })
    assert.is_true(net:run(function() return #table.concat(got) >= #payload end, 60))
    assert.equal(payload, table.concat(got))
    conn:close()
    net:run()
  end)

  it("acknowledges cumulatively: one ACK covers every segment before it", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    stack:listen(80, { on_accept = function(c) c:on("data", function() end) end })
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80)
    local t0 = net:now()
    for i = 0, 3 do -- four segments in one burst
      peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "P.",
                 seq = isn + 1 + 100 * i, ack = iss + 1, data = string.rep("x", 100) }
    end
    -- small segments: one delayed ACK (RFC 1122 §4.2.3.2) covers all four
    local ack = peer:expect(".", { ack = isn + 1 + 400 })
    assert.is_nil(peer:receive(1))
    assert.near(0.010 + 0.040 + 0.010, ack.t - t0, 1e-6) -- delack: 40 ms
  end)

  it("never sends beyond the window the peer advertises", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    stack:listen(80, { on_accept = function(c) c:write(string.rep("w", 5000)) end })
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80, { win = 1000 })
    local function highest_byte() -- of what arrives until 0.1 s of silence
      local top = 0
      while true do
        local seg = peer:receive(0.1)
        if not seg then return top end
        top = math.max(top, seg.seq + seg.len - (iss + 1))
      end
    end
    assert.equal(1000, highest_byte()) -- then it waits for the window to open
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = ".", seq = isn + 1,
               ack = iss + 1 + 1000, win = 3000 }
    -- two full segments; the last 80 octets of the window are a sliver that
    -- sender-side SWS avoidance keeps back (RFC 9293 §3.8.6.2.1)
    assert.equal(1000 + 2 * 1460, highest_byte())
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = ".", seq = isn + 1,
               ack = iss + 1 + 3920, win = 3000 }
    assert.equal(5000, highest_byte())
  end)

  it("keeps data buffered for read() when no data handler is set", function()
    local net, client, server = H.pair()
    local accepted
    server:listen(80, { on_accept = function(c) accepted = c end })
    client:connect(H.SERVER, 80, { on_connect = function(c) c:write("abc") ; c:write("def") end })
    net:run(0.1)
    assert.equal(6, accepted:info().recv_queue)
    assert.equal("abcd", accepted:read(4))
    assert.equal("ef", accepted:read())
    assert.equal("", accepted:read())
  end)

  it("says EOF after the peer's FIN once the buffer is empty", function()
    local net, client, server = H.pair()
    local accepted
    server:listen(80, { on_accept = function(c) accepted = c end })
    client:connect(H.SERVER, 80, { on_connect = function(c) c:write("bye") c:shutdown() end })
    net:run(0.1)
    assert.equal("bye", accepted:read())
    local data, err = accepted:read()
    assert.is_nil(data)
    assert.equal("EOF", err)
  end)

  it("queues only what fits in the send buffer and says so with 'drain'", function()
    local net, client, server = H.pair(nil, { sndbuf = 4000 })
    server:listen(80, { on_accept = function(c) c:on("data", function() end) end })
    local drained = 0
    local conn = client:connect(H.SERVER, 80, { on_drain = function() drained = drained + 1 end })
    assert.equal(4000, conn:write(string.rep("q", 10000)))
    assert.equal(0, conn:write("more"))
    net:run(0.2)
    assert.equal(1, drained)
    assert.equal(0, conn:info().send_queue)
  end)
end)
