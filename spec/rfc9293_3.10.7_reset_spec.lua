-- RFC 9293 §3.10.7.1 (CLOSED), §3.10.7.2 (LISTEN), §3.10.7.3 (SYN-SENT)
-- and §3.5.3 / §3.10.7.4 (reset processing), with RFC 5961 §3.2.
local H = require "helper"

local function with_peer(cfg)
  local net = H.net()
  return net, net:host(H.SERVER, cfg), net:peer(H.PEER)
end

describe("RFC 9293 §3.10.7.1 a segment for a connection that does not exist", function()
  it("answers a SYN to a closed port with <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>", function()
    local net, stack, peer = with_peer()
    peer:send{ to = H.SERVER, sport = 1234, dport = 81, flags = "S", seq = 5000 }
    peer:expect("R.", { seq = 0, ack = 5001, sport = 81, dport = 1234 })
    assert.equal(1, stack:stats().no_listener)
    assert.equal(1, stack:stats().rst_sent)
  end)

  it("counts data and FIN in SEG.LEN", function()
    local net, stack, peer = with_peer()
    peer:send{ to = H.SERVER, sport = 1234, dport = 81, flags = "FP", seq = 100, data = "abcd" }
    peer:expect("R.", { seq = 0, ack = 105 })
  end)

  it("answers a segment with ACK set with <SEQ=SEG.ACK><CTL=RST>", function()
    local net, stack, peer = with_peer()
    peer:send{ to = H.SERVER, sport = 1234, dport = 81, flags = "P.", seq = 100, ack = 9999, data = "x" }
    peer:expect("R", { seq = 9999, ack = 0 })
  end)

  it("never answers a RST", function()
    local net, stack, peer = with_peer()
    peer:send{ to = H.SERVER, sport = 1234, dport = 81, flags = "R", seq = 100 }
    peer:send{ to = H.SERVER, sport = 1234, dport = 81, flags = "R.", seq = 100, ack = 5 }
    assert.is_nil(peer:receive(1))
  end)

  it("reports ECONNREFUSED to a client whose SYN is reset", function()
    local net, client, server = H.pair()
    local why
    local conn = client:connect(H.SERVER, 81, { on_close = function(_, err) why = err end })
    net:run(0.1)
    assert.equal("ECONNREFUSED", why)
    assert.equal("CLOSED", conn:info().state)
    assert.same({ nil, "ECONNREFUSED" }, { conn:read() })
    assert.same({ nil, "ECONNREFUSED" }, { conn:write("x") })
    assert.equal(1, client:stats().conns_refused)
  end)
end)

describe("RFC 9293 §3.10.7.2 LISTEN", function()
  it("ignores a RST", function()
    local net, stack, peer = with_peer()
    local l = stack:listen(80)
    peer:send{ to = H.SERVER, sport = 1234, dport = 80, flags = "R", seq = 1 }
    assert.is_nil(peer:receive(1))
    assert.equal("LISTEN", l:info().state)
  end)

  it("answers a bare ACK with <SEQ=SEG.ACK><CTL=RST>", function()
    local net, stack, peer = with_peer()
    local listener = stack:listen(80) -- kept: a listener nobody holds is closed when collected
    peer:send{ to = H.SERVER, sport = 1234, dport = 80, flags = ".", seq = 1, ack = 424242 }
    peer:expect("R", { seq = 424242 })
  end)

  it("drops a segment with neither SYN, ACK nor RST", function()
    local net, stack, peer = with_peer()
    local listener = stack:listen(80) -- kept: a listener nobody holds is closed when collected
    peer:send{ to = H.SERVER, sport = 1234, dport = 80, flags = "P", seq = 1, data = "hi" }
    assert.is_nil(peer:receive(1))
  end)
end)

describe("RFC 9293 §3.10.7.3 SYN-SENT", function()
  local function syn_sent()
    local net = H.net()
    local stack = net:host(H.CLIENT)
    local peer = net:peer(H.PEER)
    local why
    local conn = stack:connect(H.PEER, 80, { on_close = function(_, err) why = err end })
    local syn = peer:expect("S")
    return net, stack, peer, conn, syn, function() return why end
  end

  it("resets a SYN-ACK whose ACK does not acknowledge our SYN, staying in SYN-SENT", function()
    local net, stack, peer, conn, syn = syn_sent()
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S.", seq = 7, ack = syn.seq + 5 }
    peer:expect("R", { seq = syn.seq + 5 })
    assert.equal("SYN-SENT", conn:info().state)
  end)

  it("accepts a RST only when its ACK acknowledges the SYN", function()
    local net, stack, peer, conn, syn, why = syn_sent()
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "R", seq = 0 }
    net:run(0.1)
    assert.equal("SYN-SENT", conn:info().state)
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "R.", seq = 0, ack = syn.seq + 1 }
    net:run(0.1)
    assert.equal("CLOSED", conn:info().state)
    assert.equal("ECONNREFUSED", why())
  end)
end)

describe("RFC 9293 §3.10.7.4 and RFC 5961 §3.2 a RST in a synchronized state", function()
  local function established()
    local net, stack, peer = with_peer()
    local accepted, why
    stack:listen(80, { on_accept = function(c)
      accepted = c
      c:on("close", function(_, err) why = err end)
    end })
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80)
    return net, stack, peer, accepted, isn, iss, function() return why end
  end

  it("resets the connection when SEG.SEQ is exactly RCV.NXT, with ECONNRESET", function()
    local net, stack, peer, conn, isn, iss, why = established()
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "R", seq = isn + 1 }
    net:run(0.1)
    assert.equal("CLOSED", conn:info().state)
    assert.equal("ECONNRESET", why())
    assert.same({ nil, "ECONNRESET" }, { conn:read() })
  end)

  it("answers a RST elsewhere in the window with a challenge ACK and stays", function()
    local net, stack, peer, conn, isn, iss = established()
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "R", seq = isn + 100 }
    peer:expect(".", { seq = iss + 1, ack = isn + 1 })
    assert.equal("ESTABLISHED", conn:info().state)
    assert.equal(1, stack:stats().challenge_acks)
  end)

  it("drops a RST outside the window silently", function()
    local net, stack, peer, conn, isn = established()
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "R", seq = isn + 1 + 100000 }
    assert.is_nil(peer:receive(0.5))
    assert.equal("ESTABLISHED", conn:info().state)
  end)

  it("sends <SEQ=SND.NXT><CTL=RST> on abort() and the peer's stack reports ECONNRESET", function()
    local net, client, server = H.pair()
    local why
    server:listen(80, { on_accept = function(c) c:on("close", function(_, e) why = e end) end })
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    conn:abort()
    net:run(0.1)
    local last = trace[#trace]
    assert.equal("R", last.flags)
    assert.equal(conn:info().snd_nxt, last.seq)
    assert.equal("ECONNRESET", why)
    assert.equal("CLOSED", conn:info().state)
  end)
end)
