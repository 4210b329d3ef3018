-- RFC 5961: blind RST, SYN and data injection (also RFC 9293 §3.10.7.4),
-- and the per-connection limit on challenge ACKs (§7).
local H = require "helper"

local send = H.send

describe("RFC 5961 §3 blind reset", function()
  it("resets on SEG.SEQ = RCV.NXT only", function()
    local net, stack, peer, conn, isn = H.accepted()
    send(peer, { flags = "R", seq = isn + 1 })
    net:run(0.05)
    assert.equal("CLOSED", conn:info().state)
    assert.equal(1, stack:stats().rst_received)
  end)

  it("answers a RST inside the window but not exact with a challenge ACK", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = "R", seq = isn + 2 })
    peer:expect(".", { seq = iss + 1, ack = isn + 1 })
    assert.equal("ESTABLISHED", conn:info().state)
    assert.equal(1, stack:stats().rst_ignored)
  end)
end)

describe("RFC 5961 §4 blind SYN", function()
  it("answers a SYN in a synchronized state with a challenge ACK, whatever its sequence number", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = "S", seq = isn + 50 })
    peer:expect(".", { seq = iss + 1, ack = isn + 1 })
    net:run(1) -- past the rate limit
    send(peer, { flags = "S", seq = isn - 5000 }) -- out of the window too
    peer:expect(".", { seq = iss + 1, ack = isn + 1 })
    assert.equal("ESTABLISHED", conn:info().state)
  end)
end)

describe("RFC 5961 §5 blind data injection", function()
  it("drops data whose ACK is below SND.UNA - MAX.SND.WND and answers with an ACK", function()
    local net, stack, peer, conn, isn, iss = H.accepted(nil, { win = 1000 })
    conn:write(string.rep("x", 3000)) -- SND.UNA moves 3000 past the ISS
    for _ = 1, 3 do
      local s = peer:receive(0.2)
      send(peer, { flags = ".", seq = isn + 1, ack = s.seq + s.len, win = 1000 })
    end
    net:run(0.1)
    assert.equal(iss + 3001, conn:info().snd_una)
    -- an ACK field 2000 behind SND.UNA: no window of 1000 explains it
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1001, data = "evil", win = 1000 })
    peer:expect(".", { seq = iss + 3001, ack = isn + 1 })
    assert.equal(0, conn:info().recv_queue)
    -- an old but explicable ACK (within MAX.SND.WND) is just a duplicate
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 2501, data = "good", win = 1000 })
    net:run(0.1)
    assert.equal("good", conn:read())
  end)
end)

describe("RFC 5961 §7 challenge ACK limit", function()
  it("sends at most one challenge ACK per challenge_ack_interval per connection, and counts the rest", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ challenge_ack_interval = 1 })
    for i = 1, 5 do send(peer, { flags = "R", seq = isn + 1 + i }) end
    peer:expect(".", { ack = isn + 1 })
    assert.is_nil(peer:receive(0.5))
    local st = stack:stats()
    assert.equal(1, st.challenge_acks)
    assert.equal(4, st.challenge_acks_limited)
    net:run(1)
    send(peer, { flags = "R", seq = isn + 9 })
    peer:expect(".", { ack = isn + 1 })
  end)

  it("limits each connection on its own", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { challenge_ack_interval = 10 })
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    local a = H.peer_connect(net, peer, H.SERVER, 80, { sport = 1 })
    local b = H.peer_connect(net, peer, H.SERVER, 80, { sport = 2 })
    send(peer, { sport = 1, flags = "R", seq = a + 5 })
    send(peer, { sport = 2, flags = "R", seq = b + 5 })
    peer:expect(".", { dport = 1 })
    peer:expect(".", { dport = 2 })
    send(peer, { sport = 1, flags = "R", seq = a + 5 })
    assert.is_nil(peer:receive(0.5))
  end)
end)

describe("an ACK loop guard (as Linux's tcp_invalid_ratelimit)", function()
  it("answers out-of-window bare ACKs at most once per challenge_ack_interval", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ challenge_ack_interval = 1 })
    for i = 1, 5 do send(peer, { flags = ".", seq = isn + 100000 + i, ack = iss + 1 }) end
    peer:expect(".", { ack = isn + 1 })
    assert.is_nil(peer:receive(0.5))
    assert.equal(4, stack:stats().oow_acks_limited)
    -- data out of the window is always answered: it is not part of a loop
    send(peer, { flags = "P.", seq = isn + 200000, ack = iss + 1, data = "x" })
    peer:expect(".", { ack = isn + 1 })
  end)
end)
