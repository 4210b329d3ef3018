-- RFC 9293 §3.8.6 flow control: the send window and its update rule,
-- a receive window that never shrinks, silly window syndrome avoidance on
-- both sides, and zero-window probing with the persist timer.
local H = require "helper"
local MSS = 1460

local send = H.send

local drain = H.drain

describe("RFC 9293 §3.10.7.4 the send window update (SND.WL1, SND.WL2)", function()
  it("takes the window of a newer segment and ignores an older one's", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "abc", win = 4000 })
    net:run(0.05)
    assert.equal(4000, conn:info().snd_wnd)
    -- a reordered older segment (SEG.SEQ < SND.WL1) must not change it
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 100 })
    net:run(0.05)
    assert.equal(4000, conn:info().snd_wnd)
    -- same SEG.SEQ, same SEG.ACK (SND.WL2 =< SEG.ACK): a window update
    send(peer, { flags = ".", seq = isn + 4, ack = iss + 1, win = 9000 })
    net:run(0.05)
    assert.equal(9000, conn:info().snd_wnd)
  end)
end)

describe("RFC 9293 §3.8.6.2.2 the receive window", function()
  it("never moves its right edge left as data arrives", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rcvbuf = 5000 })
    local edge = isn + 1 + 5000
    for i = 0, 4 do
      send(peer, { flags = "P.", seq = isn + 1 + 1000 * i, ack = iss + 1,
                   data = string.rep("d", 1000) })
      net:run(0.1)
      local s = assert(conn:info())
      assert.equal(edge, s.rcv_nxt + s.rcv_wnd)
    end
    assert.equal(0, conn:info().rcv_wnd)
  end)

  it("opens again only by a real amount: min(half the buffer, one MSS) (receiver SWS)", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rcvbuf = 4000 })
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = string.rep("d", 4000) })
    peer:expect(".", { ack = isn + 4001, win = 0 })
    conn:read(100) -- 100 octets free: too few to announce
    assert.is_nil(peer:receive(0.2))
    assert.equal(0, conn:info().rcv_wnd)
    conn:read(1900) -- 2000 free: half the buffer
    peer:expect(".", { ack = isn + 4001, win = 2000 })
  end)
end)

describe("RFC 9293 §3.8.6.2.1 sender silly window avoidance and Nagle (RFC 896)", function()
  it("holds a sliver of a window back while data is in flight", function()
    local net, stack, peer, conn, isn, iss = H.accepted(nil, { win = 3000 })
    conn:write(string.rep("s", 3000))
    local segs = drain(peer)
    assert.same({ MSS, MSS }, { segs[1].len, segs[2].len }) -- not the 80 left
    assert.equal(2, #segs)
  end)

  it("sends a sliver once it is at least half the largest window offered", function()
    local net, stack, peer, conn, isn, iss = H.accepted(nil, { win = 200 })
    conn:write(string.rep("s", 1000))
    local segs = drain(peer)
    assert.equal(200, segs[1].len) -- 200 >= 200 / 2
  end)
end)

describe("RFC 9293 §3.8.6.1 zero-window probing", function()
  it("probes a closed window with one octet, backing off, and goes on when it opens", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:write("waiting")
    local probes = {}
    for i = 1, 4 do
      local p = peer:expect(".", { seq = iss + 1, len = 1 }, 10)
      probes[i] = p.t
      -- the peer's window stays shut: it acknowledges nothing
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    end
    -- from the RTO (0.2 s: rto_min over the handshake's 20 ms), doubling
    assert.near(0.4, probes[2] - probes[1], 0.01)
    assert.near(0.8, probes[3] - probes[2], 0.01)
    assert.near(1.6, probes[4] - probes[3], 0.01)
    assert.equal("ESTABLISHED", conn:info().state)
    assert.is_true(stack:stats().window_probes >= 4)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 1000 }) -- opens
    local s = peer:expect("P.", { seq = iss + 1, data = "waiting" }, 1)
    assert.truthy(s)
  end)

  it("keeps probing a peer that answers with a zero window, however long", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ retries = 3 })
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:write("waiting")
    for _ = 1, 8 do
      peer:expect(".", { len = 1 }, 200)
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    end
    assert.equal("ESTABLISHED", conn:info().state)
  end)

  it("gives up with ETIMEDOUT when `retries` probes go unanswered", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ retries = 3 })
    local why
    conn:on("close", function(_, e) why = e end)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:write("waiting")
    net:run()
    assert.equal("ETIMEDOUT", why)
  end)

  it("delivers the probe's octet when the peer's window has room for it", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, win = 0 })
    net:run(0.05)
    conn:write("ab")
    peer:expect(".", { seq = iss + 1, data = "a" }, 5)
    -- the window opened meanwhile: the peer takes the octet
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 2, win = 1000 })
    peer:expect("P.", { seq = iss + 2, data = "b" }, 1)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 3, win = 1000 })
    net:run(0.1)
    assert.equal(0, conn:info().send_queue)
  end)
end)
