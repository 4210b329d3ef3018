-- Retransmission: RFC 9293 §3.8.1 and RFC 6298 (the timer, its initial
-- value of 1 s, and exponential backoff), RFC 1122 §4.2.3.5 (giving up).
local H = require "helper"

local function times(trace, flags, from)
  local t = {}
  for i = 1, #trace do
    local s = trace[i]
    if s.flags == flags and (not from or s.from == from) then t[#t + 1] = s.t end
  end
  return t
end

describe("RFC 6298 retransmission timer", function()
  it("sends a lost SYN again after the initial RTO of 1 s", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local trace = net:trace()
    net:impair(H.CLIENT, H.SERVER, { loss = 1 }) -- the first SYN is lost
    local conn = client:connect(H.SERVER, 80)
    net:run(0.5)
    net:impair(H.CLIENT, H.SERVER, { loss = 0 })
    net:run(1)
    assert.same({ 0, 1 }, times(trace, "S"))
    assert.is_true(trace[1].dropped)
    assert.is_nil(trace[2].dropped)
    assert.equal("ESTABLISHED", conn:info().state)
    assert.equal(1, client:stats().retransmits)
    assert.equal(1, conn:info().retransmits)
  end)

  it("doubles the timer on every SYN retransmission and gives up after syn_retries with ETIMEDOUT", function()
    local net = H.net()
    local client = net:host(H.CLIENT)
    local silent = net:peer(H.PEER) -- never answers
    local trace = net:trace()
    local why, at
    client:connect(H.PEER, 80, { on_close = function(_, err) why, at = err, net:now() end })
    net:run()
    -- 1, 2, 4, 8, 16, 32 s apart: as Linux with tcp_syn_retries = 6
    assert.same({ 0, 1, 3, 7, 15, 31, 63 }, times(trace, "S"))
    assert.equal("ETIMEDOUT", why)
    assert.equal(127, at)
    assert.equal(1, client:stats().conns_timed_out)
    assert.equal(7, silent:pending())
  end)

  it("counts syn_retries from the configuration", function()
    local net = H.net()
    local client = net:host(H.CLIENT, { syn_retries = 2, rto_initial = 0.5 })
    local silent = net:peer(H.PEER)
    local trace = net:trace()
    local why
    client:connect(H.PEER, 80, { on_close = function(_, err) why = err end })
    net:run()
    assert.same({ 0, 0.5, 1.5 }, times(trace, "S"))
    assert.equal("ETIMEDOUT", why)
    assert.truthy(silent)
  end)

  it("retransmits unacknowledged data with backoff, and stops when it is acknowledged", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    local trace = stack:trace()
    local t0 = net:now()
    conn:write("hello")
    local first = peer:expect("P.", { seq = iss + 1, data = "hello" })
    local again = peer:expect("P.", { seq = iss + 1, data = "hello" })
    local third = peer:expect("P.", { seq = iss + 1, data = "hello" })
    -- RTO after the handshake's 20 ms sample: max(rto_min 0.2, ...) = 0.2 s
    assert.near(0.2, (again.t - first.t), 1e-6)
    assert.near(0.4, (third.t - again.t), 1e-6)
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = ".", seq = isn + 1, ack = iss + 6 }
    assert.is_nil(peer:receive(5))
    assert.equal(2, conn:info().retransmits)
    assert.equal(conn:info().snd_una, conn:info().snd_nxt)
    assert.truthy(t0 and trace)
  end)

  it("retransmits a FIN that is not acknowledged", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    conn:close()
    local a = peer:expect("F.", { seq = iss + 1 })
    local b = peer:expect("F.", { seq = iss + 1 })
    assert.near(0.2, b.t - a.t, 1e-6)
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = ".", seq = isn + 1, ack = iss + 2 }
    net:run(0.1)
    assert.equal("FIN-WAIT-2", conn:info().state)
  end)

  it("gives up on data after `retries` timeouts with ETIMEDOUT", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { retries = 3 })
    local peer = net:peer(H.PEER)
    local why
    stack:listen(80, { on_accept = function(c)
      c:on("close", function(_, err) why = err end)
      c:write("anyone there?")
    end })
    H.peer_connect(net, peer, H.SERVER, 80)
    net:run()
    assert.equal("ETIMEDOUT", why)
    -- the first transmission and three retransmissions: 0.2, 0.4, 0.8 s apart
    local sent = {}
    while true do
      local s = peer:receive()
      if not s then break end
      sent[#sent + 1] = s.t
    end
    assert.equal(4, #sent)
    assert.near(1.4, sent[4] - sent[1], 1e-6)
  end)

  it("measures the RTT (RFC 6298 (2.2)) from the handshake", function()
    local net, client, server = H.pair({ delay = 0.050 })
    local listener = server:listen(80)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.2)
    local i = conn:info()
    assert.near(0.100, i.srtt, 1e-6)
    assert.near(0.050, i.rttvar, 1e-6)
    assert.near(0.300, i.rto, 1e-6) -- SRTT + 4 RTTVAR
  end)

  it("sends a bare ACK at SND.MAX after a timeout moved SND.NXT back", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    conn:write(string.rep("r", 2920)) -- two full segments
    local a = peer:expect(".", { seq = iss + 1 })
    local b = peer:expect("P.", { seq = iss + 1 + a.len })
    peer:expect(".", { seq = iss + 1 }, 1) -- the RTO: resent from SND.UNA
    -- data from the peer now: the ACK must not carry the old SND.NXT,
    -- which the peer would find unacceptable (and answer, and so on)
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "P.", seq = isn + 1,
               ack = iss + 1, data = "hi" }
    peer:expect(".", { seq = iss + 1 + 2920, ack = isn + 3 }, 1)
    assert.truthy(b)
  end)

  it("takes no RTT sample from a retransmitted SYN (Karn), and then starts with an RTO of 3 s (5.7)", function()
    local net, client, server = H.pair(nil, { timestamps = false })
    local listener = server:listen(80)
    net:impair(H.CLIENT, H.SERVER, { loss = 1 })
    local conn = client:connect(H.SERVER, 80)
    net:run(0.5)
    net:impair(H.CLIENT, H.SERVER, { loss = 0 })
    net:run(1)
    local i = conn:info()
    assert.equal("ESTABLISHED", i.state)
    assert.equal(0, i.srtt) -- the SYN-ACK answers one of two SYNs: which?
    assert.equal(3, i.rto)
  end)

  it("samples the RTT of a retransmitted SYN from the echoed timestamp (RFC 7323 §4)", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    net:impair(H.CLIENT, H.SERVER, { loss = 1 })
    local conn = client:connect(H.SERVER, 80)
    net:run(0.5)
    net:impair(H.CLIENT, H.SERVER, { loss = 0 })
    net:run(1)
    assert.near(0.020, conn:info().srtt, 1e-6) -- not 1.020
  end)
end)
