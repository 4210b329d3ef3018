-- RFC 9293 §3.5: establishing a connection (the three-way handshake),
-- and §3.7.1: the MSS option.
local H = require "helper"

describe("RFC 9293 §3.5 three-way handshake", function()
  it("goes S, S., . with each side acknowledging the other's ISN + 1", function()
    local net, client, server = H.pair()
    local listener = server:listen(80) -- kept: a listener nobody holds is closed when collected
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.same({ "S", "S.", "." }, trace:flags())
    local syn, synack, ack = trace[1], trace[2], trace[3]
    local info = conn:info()
    assert.equal(info.iss, syn.seq)
    assert.equal(syn.seq + 1, synack.ack)
    assert.equal(info.irs, synack.seq)
    assert.equal(syn.seq + 1, ack.seq)
    assert.equal(synack.seq + 1, ack.ack)
    assert.equal(H.CLIENT, syn.from)
    assert.equal(H.SERVER, syn.to)
    assert.equal(80, syn.dport)
  end)

  it("returns from connect at once in SYN-SENT and is ESTABLISHED after one RTT", function()
    local net, client, server = H.pair() -- 10 ms each way: RTT 20 ms
    local listener = server:listen(80) -- kept: a listener nobody holds is closed when collected
    local connected_at
    local conn = client:connect(H.SERVER, 80, {
      on_connect = function() connected_at = net:now() end,
    })
    assert.equal("SYN-SENT", conn:info().state)
    net:run(0.019)
    assert.equal("SYN-SENT", conn:info().state)
    net:run(0.001)
    assert.equal("ESTABLISHED", conn:info().state)
    assert.near(0.020, connected_at, 1e-9)
  end)

  it("passes the listener SYN-RECEIVED and hands the connection to on_accept when the ACK arrives", function()
    local net, client, server = H.pair()
    local accepted_at, accepted
    server:listen(80, { on_accept = function(c) accepted_at, accepted = net:now(), c end })
    client:connect(H.SERVER, 80)
    net:run(0.015)
    local rows = server:connections()
    assert.equal("LISTEN", rows[1].state)
    assert.equal("SYN-RECEIVED", rows[2].state)
    net:run(0.1)
    assert.near(0.030, accepted_at, 1e-9)
    assert.equal("ESTABLISHED", accepted:info().state)
    assert.equal(H.CLIENT, accepted:info().remote_addr)
  end)

  it("answers a peer's SYN with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80) -- kept: a listener nobody holds is closed when collected
    peer:send{ to = H.SERVER, sport = 5555, dport = 80, flags = "S", seq = 4000000000 }
    local s = peer:expect("S.", { ack = 4000000001, sport = 80, dport = 5555 })
    assert.equal(0, s.len)
    assert.equal(1460, s.options.mss)
  end)

  it("completes an active open against a scripted peer", function()
    local net = H.net()
    local stack = net:host(H.CLIENT)
    local peer = net:peer(H.PEER)
    local conn = stack:connect(H.PEER, 80)
    local syn = peer:expect("S", { dport = 80, seq = conn:info().iss, ack = 0 })
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S.", seq = 777,
               ack = syn.seq + 1, options = { mss = 1000 } }
    peer:expect(".", { seq = syn.seq + 1, ack = 778 })
    local info = conn:info()
    assert.equal("ESTABLISHED", info.state)
    assert.equal(777, info.irs)
    assert.equal(778, info.rcv_nxt)
    assert.equal(1000, info.mss)
  end)

  it("gives every connection its own ISN, never 0", function()
    local net, client, server = H.pair()
    local listener = server:listen(80) -- kept: a listener nobody holds is closed when collected
    local seen = {}
    for _ = 1, 200 do
      local iss = client:connect(H.SERVER, 80):info().iss
      assert.is_not.equal(0, iss)
      assert.is_nil(seen[iss])
      seen[iss] = true
    end
  end)

  it("picks ephemeral ports as RFC 6056 algorithm 3: in the range, spread, not reused at once", function()
    local net = H.net()
    local client = net:host(H.CLIENT, { port_range = { 40000, 40999 } })
    local seen, to_80, to_81 = {}, {}, {}
    for i = 1, 50 do
      local a = client:connect(H.SERVER, 80):info().local_port
      local b = client:connect(H.SERVER, 81):info().local_port
      assert.is_true(a >= 40000 and a <= 40999 and b >= 40000 and b <= 40999)
      assert.is_nil(seen[80 .. ":" .. a])
      seen[80 .. ":" .. a] = true
      to_80[i], to_81[i] = a, b
    end
    -- each destination walks its own sequence from a keyed starting point
    assert.are_not.equal(to_80[1], to_81[1])
    assert.equal(to_80[1] + 1, to_80[2])
  end)
end)

describe("RFC 9293 §3.7.1 maximum segment size", function()
  it("sends its MSS in the SYN and the SYN-ACK, and in no other segment", function()
    local net, client, server = H.pair(nil, { mss = 1200 }, { mss = 1300 })
    H.echo(server)
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80, { on_connect = function(c) c:write("x") end })
    net:run(0.2)
    assert.equal(1200, trace[1].options.mss)
    assert.equal(1300, trace[2].options.mss)
    for i = 3, #trace do assert.is_nil(trace[i].options.mss) end
    -- min(ours, theirs), less the 12 octets timestamps take (RFC 6691)
    assert.is_true(conn:info().timestamps)
    assert.equal(1200 - 12, conn:info().mss)
  end)

  it("assumes 536 when the peer's SYN carries no MSS option", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local got
    stack:listen(80, { nodelay = true, -- the last small piece goes at once
                       on_accept = function(c) got = c; c:write(string.rep("a", 3000)) end })
    peer:send{ to = H.SERVER, sport = 5555, dport = 80, flags = "S", seq = 1 }
    local sa = peer:expect("S.")
    peer:send{ to = H.SERVER, sport = 5555, dport = 80, flags = ".", seq = 2, ack = sa.seq + 1 }
    local total, sizes = 0, {}
    while total < 3000 do
      local seg = assert(peer:receive(1))
      sizes[#sizes + 1] = seg.len
      total = total + seg.len
    end
    assert.same({ 536, 536, 536, 536, 536, 320 }, sizes)
    assert.equal(536, got:info().mss)
  end)

  it("never sends more than the peer's MSS in one segment", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    stack:listen(80, { on_accept = function(c) c:write(string.rep("b", 1000)) end })
    H.peer_connect(net, peer, H.SERVER, 80, { options = { mss = 100 } })
    local n = 0
    while n < 1000 do
      local seg = assert(peer:receive(1))
      assert.is_true(seg.len <= 100)
      n = n + seg.len
    end
  end)
end)
