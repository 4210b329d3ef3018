-- A peer that lies: each case here once broke synack (found in review),
-- and each asserts the RFC's answer instead.
local H = require "helper"
local send, drain = H.send, H.drain

describe("a hostile peer", function()
  it("cannot make the MSS wrap with a tiny MSS and timestamps (floor of 48, as Linux)", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local conn
    local listener = stack:listen(80, { on_accept = function(c) conn = c end })
    send(peer, { flags = "S", seq = 1000, options = { mss = 5, ts = { 1, 0 } } })
    local sa = peer:expect("S.")
    send(peer, { flags = ".", seq = 1001, ack = sa.seq + 1, options = { ts = { 2, sa.options.ts[1] } } })
    net:run(0.05)
    assert.equal(48, conn:info().mss)
    conn:write(string.rep("z", 5000))
    for _, s in ipairs(drain(peer)) do assert.is_true(s.len <= 48) end
  end)

  it("cannot make the receive buffer hold more than the window offered, whatever the rounding", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ timestamps = false, rcvbuf = 3000, wscale = 14 },
                                                        { options = { mss = 1460, wscale = 7 } })
    local all, seq = {}, isn + 1
    local function push(n, byte)
      local d = string.rep(byte, n)
      all[#all + 1] = d
      send(peer, { flags = "P.", seq = seq, ack = iss + 1, data = d })
      seq = seq + n
    end
    push(1000, "a")
    push(1001, "b")
    net:run(0.2)
    local a = drain(peer)
    local wnd = a[#a].win << 14
    local i = 0
    while wnd > 0 do -- fill whatever the window says
      local n = math.min(1460, wnd)
      push(n, string.char(99 + i % 20))
      wnd, i = wnd - n, i + 1
    end
    net:run(1)
    local got = conn:read(1 << 20)
    assert.equal(table.concat(all):sub(1, #got), got) -- never garbage
    assert.is_true(#got <= 3000 + (1 << 14))
  end)

  it("cannot crash the zero-window probe once only the FIN is left", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:write("X")
    peer:expect(".", { seq = iss + 1, len = 1 }, 10)
    conn:shutdown()
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 2, win = 0 }) -- takes X, shuts again
    local probe = peer:expect("F.", { seq = iss + 2, len = 0 }, 30) -- the FIN probes now
    assert.truthy(probe)
  end)

  it("does not kill a connection whose peer shrinks its window to zero but answers", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ retries = 4 }, { win = 2920 })
    local why
    conn:on("close", function(_, e) why = e end)
    conn:write(string.rep("s", 2920))
    drain(peer)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1461, win = 0 }) -- a shrink
    for _ = 1, 8 do
      local s = peer:expect(".", { seq = iss + 1461 }, 300) -- probes of the outstanding data
      assert.is_true(s.len <= 1)
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 1461, win = 0 })
    end
    assert.equal("ESTABLISHED", conn:info().state)
    assert.is_nil(why)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1461, win = 5000 }) -- opens
    peer:expect("P.", { seq = iss + 1461, len = 1460 }, 1)
  end)

  it("does not kill a closing connection whose peer refuses the FIN with a zero window but answers", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ retries = 3 })
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:shutdown()
    for _ = 1, 8 do
      peer:expect("F.", { seq = iss + 1 }, 300)
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    end
    assert.equal("FIN-WAIT-1", conn:info().state)
  end)

  it("cannot keep a dead connection alive for keep-alive with blind junk", function()
    local net, stack, peer, conn, isn = H.accepted({ timestamps = false,
      keepalive = { idle = 10, interval = 2, count = 3 } })
    local why
    conn:on("close", function(_, e) why = e end)
    for _ = 1, 8 do
      send(peer, { flags = ".", seq = isn + 100000000, ack = 1 }) -- out of window
      net:run(5)
    end
    assert.equal("ETIMEDOUT", why)
  end)

  it("cannot make PAWS, bad-ACK or out-of-window SYN replies a reflector", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80, { options = { mss = 1460, ts = { 1000000, 0 } } })
    drain(peer)
    for i = 1, 50 do -- old timestamps: PAWS
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, options = { ts = { 5, 0 } } })
    end
    assert.equal(1, #drain(peer, 0.2))
    net:run(1)
    for i = 1, 50 do -- SYNs outside the window
      send(peer, { flags = "S", seq = isn + 100000000 + i, options = { ts = { 1000002, 0 } } })
    end
    assert.equal(1, #drain(peer, 0.2))
    net:run(1)
    for i = 1, 50 do -- ACKs of data never sent
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 100000, options = { ts = { 1000003, 0 } } })
    end
    assert.equal(1, #drain(peer, 0.2))
  end)

  it("cannot slip data in with a SYN just below RCV.NXT (RFC 5961 §4)", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ timestamps = false })
    local got = ""
    conn:on("data", function(_, d) got = got .. d end)
    send(peer, { flags = "SP.", seq = isn, ack = iss + 1, data = "INJECTED" })
    peer:expect(".", { ack = isn + 1 })
    assert.equal("", got)
    assert.equal(isn + 1, conn:info().rcv_nxt)
  end)

  it("gets bare ACKs it can accept while our refused probe octet is outstanding", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ timestamps = false })
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:write("hello")
    peer:expect(".", { seq = iss + 1, len = 1 }, 10)
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, win = 0, data = "req" })
    -- the peer's RCV.NXT is iss + 1 and its window 0: only that is acceptable
    peer:expect(".", { seq = iss + 1, ack = isn + 4 }, 1)
  end)
end)
