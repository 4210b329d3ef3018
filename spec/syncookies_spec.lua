-- SYN cookies (RFC 4987 §3.6, in Linux's layout; docs/security.md) and the
-- listener's bounded queues under a SYN flood.
local H = require "helper"

local function syn(peer, sport, opts)
  peer:send{ to = H.SERVER, sport = sport, dport = 80, flags = "S", seq = 5000,
             options = opts or { mss = 1460 } }
end

describe("SYN cookies", function()
  local net, stack, peer, listener, accepted

  local function setup(cfg, listen_opts)
    net = H.net()
    stack = net:host(H.SERVER, cfg)
    peer = net:peer(H.PEER)
    accepted = {}
    listen_opts = listen_opts or {}
    listen_opts.on_accept = function(c) accepted[#accepted + 1] = c end
    listener = stack:listen(80, listen_opts)
  end

  it("in \"always\" mode keep no state for a SYN: the ISN is the cookie", function()
    setup({ syncookies = "always" })
    syn(peer, 7000)
    local sa = peer:expect("S.", { ack = 5001 })
    assert.equal(0, listener:info().syn_queue)
    assert.equal(1, #stack:connections()) -- the LISTEN row only
    assert.equal(1, stack:stats().syncookies_sent)
    -- the ACK that returns the cookie makes the connection, established
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5001, ack = sa.seq + 1 }
    net:run(0.05)
    assert.equal(1, #accepted)
    local info = accepted[1]:info()
    assert.equal("ESTABLISHED", info.state)
    assert.equal(sa.seq, info.iss)
    assert.equal(5000, info.irs)
    assert.equal(1, stack:stats().syncookies_valid)
  end)

  it("carry the peer's MSS as an index into {536, 1300, 1440, 1460}", function()
    for mss, want in pairs { [1460] = 1460, [1400] = 1300, [1300] = 1300, [1000] = 536, [9000] = 1460 } do
      setup({ syncookies = "always" })
      syn(peer, 7000, { mss = mss })
      local sa = peer:expect("S.")
      peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5001, ack = sa.seq + 1 }
      net:run(0.05)
      assert.equal(want, accepted[1]:info().mss, "peer MSS " .. mss)
    end
  end)

  it("keep window scale and SACK-permitted in the low bits of TSval", function()
    setup({ syncookies = "always" })
    syn(peer, 7000, { mss = 1460, wscale = 9, sackok = true, ts = { 100, 0 } })
    local sa = peer:expect("S.")
    assert.equal(9 | 16, sa.options.ts[1] & 63) -- 4 bits of shift, 1 of SACK
    assert.truthy(sa.options.wscale)
    assert.is_true(sa.options.sackok)
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5001, ack = sa.seq + 1,
               options = { ts = { 101, sa.options.ts[1] } } }
    net:run(0.05)
    local info = accepted[1]:info()
    assert.equal(9, info.snd_wscale)
    assert.equal(sa.options.wscale, info.rcv_wscale)
    assert.is_true(info.sack)
    assert.is_true(info.timestamps)
    assert.equal(1460 - 12, info.mss)
  end)

  it("without timestamps offer neither window scale nor SACK (they could not survive)", function()
    setup({ syncookies = "always" })
    syn(peer, 7000, { mss = 1460, wscale = 9, sackok = true })
    local sa = peer:expect("S.")
    assert.same({ mss = 1460 }, sa.options)
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5001, ack = sa.seq + 1 }
    net:run(0.05)
    local info = accepted[1]:info()
    assert.is_false(info.snd_wscale)
    assert.is_false(info.sack)
  end)

  it("deliver data that rides on the ACK that returns the cookie", function()
    setup({ syncookies = "always" })
    syn(peer, 7000)
    local sa = peer:expect("S.")
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "P.", seq = 5001, ack = sa.seq + 1,
               data = "hello" }
    peer:expect(".", { ack = 5006 })
    assert.equal("hello", accepted[1]:read())
  end)

  it("answer a forged ACK with the RST of RFC 9293 §3.10.7.2, and say why", function()
    setup({ syncookies = "always" })
    local trace = stack:trace()
    peer:send{ to = H.SERVER, sport = 7001, dport = 80, flags = ".", seq = 77, ack = 123456 }
    peer:expect("R", { seq = 123456 }) -- <SEQ=SEG.ACK><CTL=RST>
    local st = stack:stats()
    assert.equal(1, st.syncookies_invalid)
    assert.equal(1, st.drops["cookie mismatch"])
    assert.equal("cookie mismatch", trace[1].drop)
    assert.equal(0, #accepted)
  end)

  it("drop a cookie replayed with another sequence number", function()
    setup({ syncookies = "always" })
    syn(peer, 7000)
    local sa = peer:expect("S.")
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5002, ack = sa.seq + 1 }
    peer:expect("R")
    assert.equal(1, stack:stats().drops["cookie mismatch"])
    assert.equal(0, #accepted)
  end)

  it("expire after two 64-second periods", function()
    setup({ syncookies = "always" })
    syn(peer, 7000)
    local sa = peer:expect("S.")
    net:run(130) -- past the next period boundary but one
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5001, ack = sa.seq + 1 }
    peer:expect("R")
    assert.equal(1, stack:stats().drops["cookie expired"])
    assert.equal(0, #accepted)
  end)

  it("are sent by \"auto\" only once the SYN queue is full (the default)", function()
    setup({ max_syn_backlog = 4 })
    assert.equal(4, listener:info().max_syn_backlog)
    for port = 1, 10 do syn(peer, port) end
    local segs = H.drain(peer)
    assert.equal(10, #segs)
    assert.equal(4, listener:info().syn_queue)
    assert.equal(6, stack:stats().syncookies_sent)
    assert.equal(0, stack:stats().listen_overflows)
  end)

  it("are never sent by \"never\": SYNs past the queue are dropped and counted", function()
    setup({ syncookies = "never" }, { max_syn_backlog = 4 })
    local trace = stack:trace()
    for port = 1, 10 do syn(peer, port) end
    assert.equal(4, #H.drain(peer))
    assert.equal(6, stack:stats().listen_overflows)
    assert.equal(6, stack:stats().drops["backlog full"])
    assert.equal("backlog full", trace[#trace].drop)
  end)

  it("follow the listener's option over the stack's", function()
    setup({ syncookies = "never" }, { syncookies = "always" })
    syn(peer, 7000)
    peer:expect("S.")
    assert.equal(0, listener:info().syn_queue)
    assert.equal(1, stack:stats().syncookies_sent)
  end)

  it("are refused too when the accept queue is full", function()
    net = H.net()
    stack = net:host(H.SERVER, { syncookies = "always" })
    peer = net:peer(H.PEER)
    listener = stack:listen(80, { backlog = 1 }) -- nobody accepts
    syn(peer, 7000)
    local sa = peer:expect("S.")
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 5001, ack = sa.seq + 1 }
    net:run(0.05)
    assert.equal(1, listener:info().accept_queue)
    syn(peer, 7001)
    assert.is_nil(peer:receive(1))
    assert.equal(1, stack:stats().drops["accept queue full"])
  end)
end)

describe("SYN cookies and what they cannot carry", function()
  it("are not used for an MSS below 536: such a SYN waits for room in the queue", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { syncookies = "always" })
    local peer = net:peer(H.PEER)
    local got
    local l = stack:listen(80, { on_accept = function(c) got = c end })
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "S", seq = 1, options = { mss = 100 } }
    local sa = peer:expect("S.")
    assert.equal(1, l:info().syn_queue) -- state, not a cookie
    assert.equal(0, stack:stats().syncookies_sent)
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 2, ack = sa.seq + 1 }
    net:run(0.05)
    assert.equal(100, got:info().mss) -- never above what the peer can take
  end)

  it("ignore a timestamp on the ACK when the SYN-ACK offered none (RFC 7323 §3.2)", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { syncookies = "always" })
    local peer = net:peer(H.PEER)
    local got
    local l = stack:listen(80, { on_accept = function(c) got = c end })
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "S", seq = 1, options = { mss = 1460 } }
    local sa = peer:expect("S.")
    assert.is_nil(sa.options.ts)
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 2, ack = sa.seq + 1,
               options = { ts = { 1, 0 } } }
    net:run(0.05)
    local info = got:info()
    assert.is_false(info.timestamps)
    assert.is_false(info.snd_wscale)
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "P.", seq = 2, ack = sa.seq + 1, data = "x" }
    peer:expect(".", { ack = 3 })
    assert.equal("x", got:read())
  end)

  it("never shrink the window the SYN-ACK offered (RFC 7323 §2.4)", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { syncookies = "always", rcvbuf = 10000, wscale = 7 })
    local peer = net:peer(H.PEER)
    local l = stack:listen(80)
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "S", seq = 1,
               options = { mss = 1460, wscale = 2, ts = { 5, 0 } } }
    local sa = peer:expect("S.")
    local edge = 2 + sa.win -- unscaled in a SYN-ACK
    peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "P.", seq = 2, ack = sa.seq + 1,
               data = "abc", options = { ts = { 6, sa.options.ts[1] } } }
    local a = peer:expect(".", { ack = 5 })
    assert.is_true(5 + (a.win << 7) >= edge, "the right edge moved left")
  end)
end)

describe("a TIME-WAIT 4-tuple reopened by a SYN (RFC 1122 §4.2.2.13, RFC 6191)", function()
  for _, mode in ipairs { "never", "always" } do
    it(("gets an ISN above the old incarnation's sequence numbers (syncookies = %q)"):format(mode), function()
      local net = H.net()
      local server = net:host(H.SERVER, { syncookies = mode })
      local peer = net:peer(H.PEER)
      local conn
      local l = server:listen(80, { on_accept = function(c) conn = c end })
      peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "S", seq = 1 }
      local sa = peer:expect("S.")
      peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = ".", seq = 2, ack = sa.seq + 1 }
      net:run(0.05)
      -- the server sends far more than the ISN clock advances (250000/s),
      -- then closes first: it holds the TIME-WAIT
      local w = H.writer(conn)
      w.write(string.rep("d", 200000))
      w.close()
      local fin
      repeat -- the peer acknowledges everything as it comes
        local s = assert(peer:receive(1))
        local fin_bit = s.flags:find("F") and 1 or 0
        peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = fin_bit == 1 and "F." or ".",
                   seq = 2, ack = (s.seq + s.len + fin_bit) & 0xffffffff }
        if fin_bit == 1 then fin = s end
      until fin
      H.drain(peer) -- the ACK of our FIN
      assert.equal("TIME-WAIT", server:connections()[2].state)
      local old_nxt = fin.seq + 1
      -- a new SYN, above the old RCV.NXT, reopens the 4-tuple
      peer:send{ to = H.SERVER, sport = 7000, dport = 80, flags = "S", seq = 100000 }
      local sa2 = peer:expect("S.")
      assert.is_true(((sa2.seq - old_nxt) % 2^32) < 2^31, "new ISN not above the old SND.NXT")
      assert.equal(1, server:stats().time_wait_reused)
      assert.equal(0, server:stats().syncookies_sent - (mode == "always" and 1 or 0))
    end)
  end
end)

describe("a listener under a SYN flood", function()
  it("holds at most max_syn_backlog half-open connections, memory flat, and still serves a client", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { max_syn_backlog = 32 })
    local client = net:host(H.CLIENT)
    local flood = net:peer(H.PEER)
    local got
    local listener = stack:listen(80, { on_accept = function(c)
      c:on("data", function(_, d) got = d end)
    end })
    local mem
    for i = 1, 5000 do
      flood:send{ to = H.SERVER, sport = 1024 + i % 60000, dport = 80, flags = "S", seq = i * 7919 }
      if i == 500 then
        net:run(0.02)
        mem = stack:stats().memory
      end
    end
    -- a real client in the middle of the flood
    local conn = client:connect(H.SERVER, 80, { on_connect = function(c) c:write("through") end })
    for i = 5001, 10000 do
      flood:send{ to = H.SERVER, sport = 1024 + i % 60000, dport = 80, flags = "S", seq = i * 7919 }
    end
    net:run(function() return got ~= nil end, 5)
    assert.equal("through", got)
    assert.equal(32, listener:info().syn_queue)
    assert.is_true(stack:stats().memory <= mem + 4096, "memory grew under the flood")
    -- the client's SYN came while the queue was full: it got a cookie too
    assert.equal(10001 - 32, stack:stats().syncookies_sent)
    assert.equal(1, stack:stats().syncookies_valid)
    conn:close()
  end)
end)
