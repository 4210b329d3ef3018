-- RFC 9293 §3.6: closing a connection, and TIME-WAIT (§3.6.1, §3.10.7.4).
local H = require "helper"

local function established(opts, ccfg, scfg)
  local net, client, server = H.pair(opts, ccfg, scfg)
  local accepted
  server:listen(80, { on_accept = function(c) accepted = c end })
  local conn = client:connect(H.SERVER, 80)
  net:run(0.1)
  assert.equal("ESTABLISHED", conn:info().state)
  return net, client, server, conn, accepted
end

describe("RFC 9293 §3.6 closing a connection", function()
  it("client closes first: F. . F. . and the client waits in TIME-WAIT for 2 MSL", function()
    local net, client, server, conn, accepted = established(nil, { msl = 5 })
    local trace = net:trace()
    local closed = {}
    conn:on("close", function(_, err) closed.client = { net:now(), err } end)
    accepted:on("close", function(_, err) closed.server = { net:now(), err } end)
    accepted:on("end", function(c) c:close() end)
    local t0 = net:now()
    conn:close()
    assert.equal("FIN-WAIT-1", conn:info().state)
    net:run(0.05)
    assert.same({ "F.", ".", "F.", "." }, trace:flags())
    assert.equal("TIME-WAIT", conn:info().state)
    assert.equal("CLOSED", accepted:info().state)
    -- "close" fires when each can carry nothing more: TIME-WAIT or CLOSED
    assert.near(t0 + 0.020, closed.client[1], 1e-9)
    assert.near(t0 + 0.030, closed.server[1], 1e-9)
    assert.is_nil(closed.client[2])
    assert.is_nil(closed.server[2])
    -- TIME-WAIT lasts 2 MSL from its start, then CLOSED
    local tw_start = t0 + 0.020
    net:run(tw_start + 10 - 1e-6 - net:now())
    assert.equal("TIME-WAIT", conn:info().state)
    net:run(2e-6)
    assert.equal("CLOSED", conn:info().state)
  end)

  it("server closes first: the server holds TIME-WAIT, the client ends CLOSED", function()
    local net, client, server, conn, accepted = established()
    conn:on("end", function(c) c:close() end)
    accepted:close()
    net:run(0.1)
    assert.equal("TIME-WAIT", accepted:info().state)
    assert.equal("CLOSED", conn:info().state)
  end)

  it("lists TIME-WAIT in connections() with the time left", function()
    local net, client, server, conn, accepted = established()
    accepted:on("end", function(c) c:close() end)
    conn:close()
    net:run(0.1)
    local rows = client:connections()
    assert.equal(1, #rows)
    assert.equal("TIME-WAIT", rows[1].state)
    assert.near(60 - 0.08, rows[1].expires_in, 1e-6) -- default MSL 30 s
    assert.equal(1, client:stats().time_wait)
    net:run()
    assert.equal(0, client:stats().time_wait)
  end)

  it("keeps receiving after shutdown() (half-close)", function()
    local net, client, server, conn, accepted = established()
    local got = {}
    conn:on("data", function(_, d) got[#got + 1] = d end)
    conn:shutdown()
    net:run(0.05)
    assert.equal("FIN-WAIT-2", conn:info().state)
    assert.equal("CLOSE-WAIT", accepted:info().state)
    assert.equal(5, accepted:write("still"))
    net:run(0.05)
    assert.equal("still", table.concat(got))
    local _, err = conn:write("no")
    assert.equal("EPIPE", err)
  end)

  it("sends queued data before the FIN", function()
    local net, client, server, conn, accepted = established()
    local trace = net:trace()
    conn:write("last words")
    conn:close()
    net:run(0.1)
    assert.same({ "P.", "F." }, { trace[1].flags, trace[2].flags })
    assert.equal(trace[1].seq + 10, trace[2].seq)
    assert.equal("last words", accepted:read())
  end)

  it("lets the FIN ride on the last data segment when both wait together", function()
    local net, client, server = H.pair()
    local accepted
    server:listen(80, { on_accept = function(c) accepted = c end })
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    conn:write("queued in SYN-SENT") -- sent once ESTABLISHED (§3.10.2)
    conn:shutdown()                   -- the FIN after it
    assert.equal("SYN-SENT", conn:info().state)
    net:run(0.1)
    -- the data and the FIN also carry the handshake's final ACK
    assert.same({ "S", "S.", "FP.", "." }, trace:flags())
    assert.equal(18, trace[3].len)
    assert.equal("queued in SYN-SENT", accepted:read())
  end)

  it("acknowledges a retransmitted FIN in TIME-WAIT and restarts the 2 MSL timer", function()
    local net, stack, peer, accepted, isn, iss = H.accepted({ msl = 1 })
    accepted:close()
    local fin = peer:expect("F.", { seq = iss + 1, ack = isn + 1 })
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "F.", seq = isn + 1, ack = iss + 2 }
    net:run(0.05)
    assert.equal("TIME-WAIT", accepted:info().state)
    peer:expect(".", { seq = iss + 2, ack = isn + 2 })
    net:run(1.5) -- most of the 2 s
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "F.", seq = isn + 1, ack = iss + 2 }
    peer:expect(".", { seq = iss + 2, ack = isn + 2 })
    net:run(1.5) -- 3 s after the first: still waiting, the timer restarted
    assert.equal("TIME-WAIT", accepted:info().state)
    net:run(1)
    assert.equal("CLOSED", accepted:info().state)
    assert.truthy(fin)
  end)

  it("deletes the TCB on close() in SYN-SENT (§3.10.4): no FIN, no RST", function()
    local net, client, server = H.pair()
    local listener = server:listen(80) -- kept: a listener nobody holds is closed when collected
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    conn:close()
    assert.equal("CLOSED", conn:info().state)
    net:run(0.1)
    -- the SYN already left; the SYN-ACK finds no connection and is reset
    assert.same({ "S", "S.", "R" }, trace:flags())
  end)

  it("ends an orphaned FIN-WAIT-2 after fin_timeout with a RST, as Linux does", function()
    local net, client, server = H.pair(nil, { fin_timeout = 10 })
    local listener = server:listen(80) -- accepts nothing: never sends its FIN
    local why
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80, { on_close = function(_, e) why = e end })
    net:run(0.1)
    conn:close()
    net:run(5)
    assert.equal("FIN-WAIT-2", conn:info().state)
    net:run(10)
    assert.equal("CLOSED", conn:info().state)
    assert.equal("ETIMEDOUT", why)
    assert.equal("R", trace[#trace].flags)
  end)

  it("acknowledges the peer's FIN at once in a FIN-WAIT-2 nobody holds (§3.10.7.4 eighth)", function()
    local net = H.net()
    local client = net:host(H.CLIENT)
    local peer = net:peer(H.PEER)
    do -- a connection closed and let go: an orphan in FIN-WAIT-2
      local conn = client:connect(H.PEER, 80)
      local syn = peer:expect("S")
      peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S.", seq = 500, ack = syn.seq + 1 }
      peer:expect(".")
      conn:close()
      local fin = peer:expect("F.")
      peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = ".", seq = 501, ack = fin.seq + 1 }
      conn = nil
      collectgarbage()
      collectgarbage()
      net:run(0.1)
      -- the peer's FIN: the final ACK comes at once, not after the peer's RTO
      local t0 = net:now()
      peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "F.", seq = 501, ack = fin.seq + 1 }
      local ack = peer:expect(".", { ack = 502 })
      assert.near(0.02, ack.t - t0, 1e-6) -- 10 ms each way, no delay
      assert.equal(1, client:stats().time_wait)
    end
  end)

  it("waits for the peer's FIN as long as it takes after shutdown() (not orphaned)", function()
    local net, client, server = H.pair(nil, { fin_timeout = 10 })
    local listener = server:listen(80)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    conn:shutdown()
    net:run(100)
    assert.equal("FIN-WAIT-2", conn:info().state)
    conn:close() -- now orphaned: the timer starts
    net:run(11)
    assert.equal("CLOSED", conn:info().state)
  end)

  it("does not consume a second FIN in CLOSE-WAIT", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "F.", seq = isn + 1, ack = iss + 1 }
    peer:expect(".", { ack = isn + 2 })
    assert.equal("CLOSE-WAIT", conn:info().state)
    -- a hostile FIN at the new RCV.NXT: acknowledged, not consumed
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "F.", seq = isn + 2, ack = iss + 1 }
    peer:expect(".", { ack = isn + 2 })
    assert.equal(isn + 2, conn:info().rcv_nxt)
  end)

  it("treats close() twice as once", function()
    local net, client, server, conn = established()
    local trace = net:trace()
    conn:close()
    conn:close()
    net:run(0.1)
    local fins = 0
    for i = 1, #trace do
      if trace[i].from == H.CLIENT and trace[i].flags:find("F") then fins = fins + 1 end
    end
    assert.equal(1, fins)
  end)

  it("closes simultaneously through CLOSING to TIME-WAIT on both sides (Figure 13)", function()
    local net, client, server, conn, accepted = established()
    local trace = net:trace()
    local seen = { client = {}, server = {} }
    conn:on("state", function(_, new) table.insert(seen.client, new) end)
    accepted:on("state", function(_, new) table.insert(seen.server, new) end)
    conn:close()
    accepted:close() -- at the same virtual instant: the FINs cross
    net:run(0.1)
    assert.same({ "FIN-WAIT-1", "CLOSING", "TIME-WAIT" }, seen.client)
    assert.same({ "FIN-WAIT-1", "CLOSING", "TIME-WAIT" }, seen.server)
    assert.same({ "F.", "F.", ".", "." }, trace:flags())
  end)

  it("holds a FIN that arrives ahead of a gap until the gap fills", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    local ended = false
    conn:on("end", function() ended = true end)
    -- "world" with the FIN first, then "hello" before it
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "FP.", seq = isn + 6,
               ack = iss + 1, data = "world" }
    peer:expect(".", { ack = isn + 1 }) -- a duplicate ACK: the hole is at isn + 1
    assert.equal("ESTABLISHED", conn:info().state)
    assert.equal(5, conn:info().ooo_bytes)
    assert.is_false(ended)
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "P.", seq = isn + 1,
               ack = iss + 1, data = "hello" }
    peer:expect(".", { ack = isn + 12 }) -- both halves and the FIN
    assert.equal("CLOSE-WAIT", conn:info().state)
    assert.equal("helloworld", conn:read())
    assert.is_true(ended)
  end)

  it("keeps taking data after its own FIN (FIN-WAIT-1 and -2 after shutdown)", function()
    local net, client, server, conn, accepted = established()
    local got = {}
    conn:on("data", function(_, d) got[#got + 1] = d end)
    conn:shutdown()
    accepted:write("one")
    net:run(0.05)
    accepted:write("two")
    net:run(0.1)
    assert.equal("FIN-WAIT-2", conn:info().state)
    assert.equal("onetwo", table.concat(got))
  end)

  it("ignores text after the peer's FIN (CLOSE-WAIT)", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "F.", seq = isn + 1, ack = iss + 1 }
    peer:expect(".", { ack = isn + 2 })
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "P.", seq = isn + 2,
               ack = iss + 1, data = "late" }
    assert.is_nil(peer:receive(0.5))
    assert.equal(0, conn:info().recv_queue)
    assert.equal(isn + 2, conn:info().rcv_nxt)
  end)

  it("gives up in LAST-ACK after `retries` FIN retransmissions, with ETIMEDOUT", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ retries = 3 })
    local why
    conn:on("close", function(_, e) why = e end)
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "F.", seq = isn + 1, ack = iss + 1 }
    peer:expect(".")
    conn:close()
    assert.equal("LAST-ACK", conn:info().state)
    net:run()
    local fins = 0
    while peer:pending() > 0 do
      if peer:receive().flags == "F." then fins = fins + 1 end
    end
    assert.equal(4, fins) -- the FIN and three retransmissions
    assert.equal("CLOSED", conn:info().state)
    assert.equal("ETIMEDOUT", why)
  end)

  it("resets instead of closing when unread data would be lost (RFC 2525 §2.17)", function()
    local net, client, server, conn, accepted = established()
    local why
    conn:on("close", function(_, e) why = e end)
    accepted:write("unread")
    net:run(0.05)
    assert.equal(6, conn:info().recv_queue)
    local trace = net:trace()
    conn:close()
    net:run(0.05)
    assert.equal("R", trace[1].flags)
    assert.equal("CLOSED", conn:info().state)
    assert.equal("ECONNABORTED", why)
    assert.equal("CLOSED", accepted:info().state) -- ECONNRESET on that side
    assert.equal(1, client:stats().abort_on_close)
  end)

  it("resets when data arrives after close(), as Linux does", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    conn:close()
    peer:expect("F.", { seq = iss + 1 })
    peer:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "P.", seq = isn + 1,
               ack = iss + 2, data = "too late" }
    peer:expect("R", { seq = iss + 2 })
    assert.equal("CLOSED", conn:info().state)
    assert.equal(1, stack:stats().abort_on_data)
  end)
end)
