-- RFC 7323: window scaling (§2), timestamps (§3, §4) and PAWS (§5).
local H = require "helper"

local send = H.send

-- A peer's handshake with options of its choosing; returns the SYN-ACK.
local function handshake(net, peer, opts, ack_opts)
  send(peer, { flags = "S", seq = 1000, options = opts })
  local sa = peer:expect("S.")
  send(peer, { flags = ".", seq = 1001, ack = sa.seq + 1, win = 1000, options = ack_opts })
  net:run(0.05)
  return sa
end

local function server()
  local net = H.net()
  local stack = net:host(H.SERVER)
  local peer = net:peer(H.PEER)
  local conn
  local listener = stack:listen(80, { on_accept = function(c) conn = c end })
  return net, stack, peer, function() return conn end, listener
end

describe("RFC 7323 §2 window scale", function()
  it("is used in both directions when both SYNs carry it", function()
    local net, client, srv = H.pair()
    local accepted
    local listener = srv:listen(80, { on_accept = function(c) accepted = c end })
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    local i = conn:info()
    assert.equal(3, i.snd_wscale) -- 256 KiB of buffer needs a shift of 3
    assert.equal(3, i.rcv_wscale)
    assert.equal(65535, i.snd_wnd) -- from the SYN-ACK: never scaled
    assert.equal(262144, accepted:info().snd_wnd) -- 32768 << 3 from the ACK
  end)

  it("is not used when the peer's SYN does not carry it, and the SYN-ACK does not offer it", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460 })
    assert.is_nil(sa.options.wscale)
    local i = conn():info()
    assert.is_false(i.snd_wscale)
    assert.is_false(i.rcv_wscale)
    assert.equal(1000, i.snd_wnd)
  end)

  it("scales the peer's window field by its shift, never in a SYN", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460, wscale = 2 })
    assert.equal(3, sa.options.wscale)
    assert.equal(65535, sa.win) -- a SYN's window is never scaled
    assert.equal(4000, conn():info().snd_wnd) -- 1000 << 2
  end)

  it("shifts our window field right by our shift", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460, wscale = 2 })
    send(peer, { flags = "P.", seq = 1001, ack = sa.seq + 1, data = "x" })
    local a = peer:expect(".", {}, 1)
    assert.equal((262144 - 1) >> 3, a.win) -- rounded down: nothing promised
    assert.truthy(conn())
  end)

  it("uses a shift above 14 as 14 (§2.3)", function()
    local net, stack, peer, conn = server()
    handshake(net, peer, { mss = 1460, wscale = 20 })
    assert.equal(14, conn():info().snd_wscale)
  end)

  it("is not offered when configured off, and then not used even if the SYN-ACK has it", function()
    local net = H.net()
    local stack = net:host(H.CLIENT, { wscale = false })
    local peer = net:peer(H.PEER)
    local conn = stack:connect(H.PEER, 80)
    local syn = peer:expect("S")
    assert.is_nil(syn.options.wscale)
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S.", seq = 1, ack = syn.seq + 1,
               win = 1000, options = { mss = 1460, wscale = 5 } }
    net:run(0.05)
    assert.is_false(conn:info().snd_wscale)
    assert.equal(1000, conn:info().snd_wnd)
  end)

  it("chooses the shift from rcvbuf unless one is given", function()
    local net, client, srv = H.pair(nil, { rcvbuf = 1 << 20 }, { wscale = 7 })
    local listener = srv:listen(80)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.equal(5, conn:info().rcv_wscale) -- 1 MiB >> 5 fits 16 bits
    assert.equal(7, conn:info().snd_wscale)
  end)
end)

describe("RFC 7323 §3 timestamps", function()
  it("are used when both SYNs carry them, on every segment but RSTs", function()
    local net, client, srv = H.pair()
    H.echo(srv)
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80, {
      on_connect = function(c) c:write("hi") end,
      on_data = function(c) c:close() end,
    })
    net:run(1)
    assert.is_true(conn:info().timestamps or conn:info().state == "TIME-WAIT")
    for i = 1, #trace do assert.truthy(trace[i].options.ts, trace[i].flags) end
  end)

  it("echo the most recent timestamp of the peer (TS.Recent) in TSecr", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460, ts = { 111, 0 } }, { ts = { 222, sa and 0 or 0 } })
    assert.equal(111, sa.options.ts[2]) -- the SYN-ACK echoes the SYN's
    send(peer, { flags = "P.", seq = 1001, ack = sa.seq + 1, data = "x", options = { ts = { 333, 1 } } })
    local a = peer:expect(".", {}, 1)
    assert.equal(333, a.options.ts[2])
    assert.truthy(conn())
  end)

  it("are not sent when configured off", function()
    local net, client, srv = H.pair(nil, { timestamps = false })
    local listener = srv:listen(80)
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.is_nil(trace[1].options.ts)
    assert.is_nil(trace[2].options.ts) -- the SYN-ACK follows the SYN
    assert.is_false(conn:info().timestamps)
  end)

  it("measure the RTT from the echoed value (RTTM, §4)", function()
    local net, client, srv = H.pair({ delay = 0.050 })
    H.echo(srv)
    local conn = client:connect(H.SERVER, 80, { on_connect = function(c) c:write("ping") end })
    net:run(1)
    assert.near(0.100, conn:info().srtt, 0.002)
  end)

  it("make a segment without one dropped once they are in use (§3.2)", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460, ts = { 10, 0 } }, { ts = { 11, 0 } })
    send(peer, { flags = "P.", seq = 1001, ack = sa.seq + 1, data = "bare" })
    assert.is_nil(peer:receive(0.5))
    assert.equal(0, conn():info().recv_queue)
    assert.equal(1, stack:stats().ts_missing)
  end)

  it("still let a RST without one through (§3.2)", function()
    local net, stack, peer, conn = server()
    handshake(net, peer, { mss = 1460, ts = { 10, 0 } }, { ts = { 11, 0 } })
    send(peer, { flags = "R", seq = 1001 })
    net:run(0.05)
    assert.equal("CLOSED", conn():info().state)
  end)
end)

describe("RFC 7323 §5 PAWS", function()
  it("drops a segment whose timestamp is older than TS.Recent, and acknowledges", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460, ts = { 1000, 0 } }, { ts = { 1001, 0 } })
    send(peer, { flags = "P.", seq = 1001, ack = sa.seq + 1, data = "new", options = { ts = { 1002, 0 } } })
    peer:expect(".", { ack = 1004 }, 1)
    -- an old duplicate from a previous wrap of the sequence space
    send(peer, { flags = "P.", seq = 1004, ack = sa.seq + 1, data = "old", options = { ts = { 999, 0 } } })
    local a = peer:expect(".", { ack = 1004 }, 1)
    assert.equal(1002, a.options.ts[2])
    assert.equal("new", conn():read())
    assert.equal(1, stack:stats().paws_drops)
  end)

  it("compares timestamps modulo 2^32", function()
    local net, stack, peer, conn = server()
    local sa = handshake(net, peer, { mss = 1460, ts = { 0xfffffff0, 0 } }, { ts = { 0xfffffff1, 0 } })
    send(peer, { flags = "P.", seq = 1001, ack = sa.seq + 1, data = "wrap", options = { ts = { 5, 0 } } })
    peer:expect(".", { ack = 1005 }, 1)
    assert.equal("wrap", conn():read())
    assert.equal(0, stack:stats().paws_drops)
  end)
end)
