-- Congestion control: RFC 5681 (slow start, congestion avoidance, fast
-- retransmit/fast recovery), RFC 6582 (NewReno partial ACKs) and RFC 6928
-- (an initial window of 10 segments).
local H = require "helper"
local MSS = 1460

local send = H.send

local flight = H.drain

local function ack(peer, isn, upto)
  send(peer, { flags = ".", seq = isn + 1, ack = upto })
end

-- Three duplicate ACKs for the first segment of a flight of ten.  The
-- first two each let one new segment out (Limited Transmit, RFC 3042), so
-- twelve are in flight at the third.
local function three_dupacks(peer, isn, iss)
  for _ = 1, 2 do
    ack(peer, isn, iss + 1)
    peer:expect(".", { len = MSS }, 0.05)
  end
  ack(peer, isn, iss + 1)
end

describe("RFC 6928 initial window", function()
  it("sends 10 full segments before the first ACK", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 100000))
    local segs = flight(peer)
    assert.equal(10, #segs)
    for _, s in ipairs(segs) do assert.equal(MSS, s.len) end
    assert.equal(10 * MSS, conn:info().cwnd)
  end)

  it("is one segment after the SYN or SYN-ACK had to be sent again (RFC 5681 §3.1)", function()
    local net = H.net()
    local client = net:host(H.CLIENT)
    local server = net:host(H.SERVER)
    local listener = server:listen(80)
    net:impair(H.CLIENT, H.SERVER, { loss = 1 })
    local conn = client:connect(H.SERVER, 80)
    net:run(0.5)
    net:impair(H.CLIENT, H.SERVER, { loss = 0 })
    net:run(1)
    assert.equal("ESTABLISHED", conn:info().state)
    assert.equal(conn:info().mss, conn:info().cwnd)
  end)
end)

describe("RFC 5681 §3.1 slow start and congestion avoidance", function()
  it("grows cwnd by one SMSS per ACK in slow start: the window doubles each RTT", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 200000))
    local first = flight(peer)
    for _, s in ipairs(first) do ack(peer, isn, s.seq + s.len) end -- one ACK each
    local second = flight(peer)
    assert.equal(20, #second)
    assert.equal(20 * MSS, conn:info().cwnd)
  end)

  it("counts one SMSS per cumulative ACK, however much it covers (Appropriate Byte Counting)", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 200000))
    local first = flight(peer)
    ack(peer, isn, first[#first].seq + MSS) -- one ACK for all ten
    local second = flight(peer)
    assert.equal(11 * MSS, conn:info().cwnd)
    assert.equal(11, #second)
  end)

  it("grows by one SMSS per round trip once cwnd reaches ssthresh", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 1000000))
    local segs = flight(peer)
    three_dupacks(peer, isn, iss) -- ssthresh = FlightSize / 2 = 6 segments
    flight(peer)
    ack(peer, isn, segs[#segs].seq + 3 * MSS) -- a full ACK (12 sent) ends recovery
    net:run(0.01)
    assert.equal(6 * MSS, conn:info().ssthresh)
    local cwnd = { conn:info().cwnd // MSS }
    for round = 1, 8 do -- every segment ACKed on its own
      for _, s in ipairs(flight(peer)) do ack(peer, isn, s.seq + s.len) end
      net:run(0.02)
      cwnd[round + 1] = conn:info().cwnd // MSS
    end
    -- slow start up to ssthresh, then exactly one SMSS per round
    local ca = 1
    while cwnd[ca] < 6 do
      assert.is_true(cwnd[ca + 1] > cwnd[ca] + 1 or cwnd[ca + 1] >= 6)
      ca = ca + 1
    end
    assert.is_true(#cwnd - ca >= 4)
    for r = ca + 1, #cwnd do assert.equal(cwnd[r - 1] + 1, cwnd[r]) end
  end)
end)

describe("RFC 5681 §3.2 fast retransmit and RFC 6582 NewReno", function()
  it("resends the first unacknowledged segment on the third duplicate ACK, without waiting for the RTO", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 100000))
    local segs = flight(peer)
    local t0 = net:now()
    three_dupacks(peer, isn, iss)
    local again = peer:expect(".", { seq = iss + 1, len = MSS }, 0.05)
    assert.is_true(again.t - t0 < 0.1)
    local i = conn:info()
    assert.equal(6 * MSS, i.ssthresh)     -- max(FlightSize / 2, 2 SMSS)
    assert.equal(9 * MSS, i.cwnd)         -- ssthresh + 3 SMSS
    assert.equal(1, stack:stats().fast_retransmits)
    assert.equal(0, stack:stats().timeouts)
    assert.truthy(segs)
  end)

  it("lets one new segment out on each of the first two duplicates (Limited Transmit, RFC 3042)", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 100000))
    local segs = flight(peer)
    local top = segs[#segs].seq + MSS
    ack(peer, isn, iss + 1)
    peer:expect(".", { seq = top, len = MSS })
    assert.is_nil(peer:receive(0.05))
    ack(peer, isn, iss + 1)
    peer:expect(".", { seq = top + MSS, len = MSS })
    assert.is_nil(peer:receive(0.05))
    assert.equal(0, stack:stats().retransmits)
    assert.equal(10 * MSS, conn:info().cwnd) -- cwnd itself has not changed
  end)

  it("inflates cwnd by one SMSS per further duplicate ACK, sending new data", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 100000))
    flight(peer)
    three_dupacks(peer, isn, iss)
    peer:expect(".", { seq = iss + 1 })
    for _ = 1, 5 do ack(peer, isn, iss + 1) end -- cwnd 9 -> 14 segments
    local new = flight(peer)
    assert.equal(14 * MSS, conn:info().cwnd)
    assert.equal(2, #new) -- 14 allowed, 12 outstanding
    assert.equal(iss + 1 + 12 * MSS, new[1].seq)
  end)

  it("resends the next hole at once on a partial ACK, and leaves recovery on a full one", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 100000))
    local segs = flight(peer) -- say segments 1 and 4 were lost
    three_dupacks(peer, isn, iss)
    peer:expect(".", { seq = iss + 1 })
    ack(peer, isn, segs[4].seq) -- partial: covers 1-3, not 4
    peer:expect(".", { seq = segs[4].seq, len = MSS }, 0.05)
    assert.equal(2, stack:stats().retransmits)
    ack(peer, isn, segs[10].seq + 3 * MSS) -- full: all 12 sent, up to `recover`
    net:run(0.01)
    local i = conn:info()
    assert.equal(6 * MSS, i.ssthresh)
    assert.is_true(i.cwnd <= i.ssthresh) -- deflated (RFC 6582 §3.2 (3))
    assert.equal(0, stack:stats().timeouts)
  end)

  it("does not fast-retransmit again for losses in a window already recovered", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 0.5, rto_initial = 0.5 })
    conn:write(string.rep("a", 100000))
    flight(peer)
    net:run(1) -- the RTO fires: recover = the highest sequence number sent
    local fr = stack:stats().fast_retransmits
    for _ = 1, 3 do ack(peer, isn, iss + 1) end
    net:run(0.1)
    assert.equal(fr, stack:stats().fast_retransmits)
  end)
end)

describe("RFC 5681 §3.1 on a timeout", function()
  it("sets ssthresh to half the flight and cwnd to one segment, resending from SND.UNA", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    conn:write(string.rep("a", 100000))
    flight(peer, 0.1)
    local s = peer:expect(".", { seq = iss + 1, len = MSS }, 1) -- after the RTO
    assert.truthy(s)
    local i = conn:info()
    assert.equal(MSS, i.cwnd)
    assert.equal(5 * MSS, i.ssthresh)
    assert.is_nil(peer:receive(0.1)) -- one segment, not the window
    assert.equal(1, stack:stats().timeouts)
  end)
end)

describe("RFC 5681 §4.1 restarting after idle", function()
  it("goes back to the initial window after an idle period longer than the RTO", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 5 })
    conn:write(string.rep("a", 10 * MSS))
    local f = flight(peer)
    for _, s in ipairs(f) do ack(peer, isn, s.seq + s.len) end
    net:run(0.1)
    assert.equal(20 * MSS, conn:info().cwnd)
    net:run(10) -- idle for longer than the RTO
    conn:write(string.rep("b", 30 * MSS))
    assert.equal(10, #flight(peer))
  end)
end)

describe("NewReno between two synack stacks", function()
  it("recovers from one lost segment in a bulk transfer by fast retransmit, with no timeout", function()
    local net, client, server = H.pair({ delay = 0.005 })
    local got = {}
    server:listen(80, { on_accept = function(c) c:on("data", function(_, d) got[#got + 1] = d end) end })
    local payload = string.rep("0123456789", 50000)
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    local w = H.writer(conn)
    conn:on("connect", function() w.write(payload) end)
    -- drop exactly one data segment, mid-transfer
    net:run(function() return #trace >= 40 end, 10)
    net:impair(H.CLIENT, H.SERVER, { loss = 1 })
    net:run(function() return trace[#trace].dropped end, 10)
    net:impair(H.CLIENT, H.SERVER, { loss = 0 })
    local lost = trace[#trace]
    assert.is_true(lost.len > 0)
    net:run(function() return #table.concat(got) >= #payload end, 30)
    assert.equal(payload, table.concat(got))
    local st = client:stats()
    assert.equal(1, st.fast_retransmits)
    assert.equal(0, st.timeouts)
    -- the retransmission is in the trace, soon after the loss
    local resent
    for i = 1, #trace do
      local s = trace[i]
      if s.seq == lost.seq and s.from == H.CLIENT and not s.dropped and s.t > lost.t then
        resent = s
        break
      end
    end
    assert.truthy(resent)
    assert.is_true(resent.t - lost.t < 0.1, "fast, not after an RTO")
  end)
end)
