-- RFC 9293 §3.5 and §3.10.7: the ways a connection opens, and fails to.
local H = require "helper"

describe("RFC 9293 §3.5 simultaneous open (Figure 7)", function()
  it("takes two SYN-SENT sides through SYN-RECEIVED to ESTABLISHED", function()
    local net = H.net()
    local a = net:host("10.0.0.1", { wscale = false })
    local b = net:host("10.0.0.2", { wscale = false })
    local trace = net:trace()
    local states = { a = {}, b = {} }
    local ca = a:connect("10.0.0.2", 7000, { local_port = 6000,
      on_state = function(_, new) table.insert(states.a, new) end })
    local cb = b:connect("10.0.0.1", 6000, { local_port = 7000,
      on_state = function(_, new) table.insert(states.b, new) end })
    net:run(0.1)
    assert.equal("ESTABLISHED", ca:info().state)
    assert.equal("ESTABLISHED", cb:info().state)
    assert.same({ "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED" }, states.a)
    assert.same({ "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED" }, states.b)
    -- both SYNs cross, then both SYN-ACKs: each acknowledges the other
    assert.same({ "S", "S", "S.", "S." }, { trace[1].flags, trace[2].flags,
                                          trace[3].flags, trace[4].flags })
    assert.equal(ca:info().iss + 1, cb:info().rcv_nxt)
    assert.equal(cb:info().iss + 1, ca:info().rcv_nxt)
  end)

  it("with a scripted peer: SYN in SYN-SENT gets <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>", function()
    local net = H.net()
    local stack = net:host(H.CLIENT)
    local peer = net:peer(H.PEER)
    local conn = stack:connect(H.PEER, 80)
    local syn = peer:expect("S")
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S", seq = 500 }
    peer:expect("S.", { seq = syn.seq, ack = 501 })
    assert.equal("SYN-RECEIVED", conn:info().state)
    -- the peer's SYN-ACK completes it (its SYN is not a new one)
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S.", seq = 500, ack = syn.seq + 1 }
    net:run(0.05)
    assert.equal("ESTABLISHED", conn:info().state)
  end)
end)

describe("RFC 9293 §3.10.7.4 SYN-RECEIVED", function()
  it("returns a passive open to LISTEN on a RST: the listener goes on", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    peer:send{ to = H.SERVER, sport = 5, dport = 80, flags = "S", seq = 100 }
    peer:expect("S.")
    assert.equal(1, listener:info().syn_queue)
    peer:send{ to = H.SERVER, sport = 5, dport = 80, flags = "R", seq = 101 }
    net:run(0.05)
    assert.equal(0, listener:info().syn_queue)
    assert.equal(1, #stack:connections()) -- the LISTEN row alone
    peer:send{ to = H.SERVER, sport = 6, dport = 80, flags = "S", seq = 100 }
    peer:expect("S.")
  end)

  it("reports ECONNREFUSED for an active open reset in SYN-RECEIVED", function()
    local net = H.net()
    local stack = net:host(H.CLIENT)
    local peer = net:peer(H.PEER)
    local why
    local conn = stack:connect(H.PEER, 80, { on_close = function(_, e) why = e end })
    local syn = peer:expect("S")
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "S", seq = 500 }
    peer:expect("S.")
    peer:send{ to = H.CLIENT, sport = 80, dport = syn.sport, flags = "R", seq = 501 }
    net:run(0.05)
    assert.equal("CLOSED", conn:info().state)
    assert.equal("ECONNREFUSED", why)
  end)

  it("sends the SYN-ACK again at once when the peer's SYN comes again", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    peer:send{ to = H.SERVER, sport = 5, dport = 80, flags = "S", seq = 100 }
    local first = peer:expect("S.")
    peer:send{ to = H.SERVER, sport = 5, dport = 80, flags = "S", seq = 100 }
    local again = peer:expect("S.", { seq = first.seq, ack = 101 })
    assert.near(0.020, again.t - first.t, 1e-9)
  end)

  it("retransmits the SYN-ACK on its timer, synack_retries times, then forgets", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { synack_retries = 2 })
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    peer:send{ to = H.SERVER, sport = 5, dport = 80, flags = "S", seq = 100 }
    net:run()
    local t = {}
    while peer:pending() > 0 do t[#t + 1] = peer:receive().t end
    assert.same({ 0.020, 1.020, 3.020 }, t) -- 1 s, then doubled
    assert.equal(0, listener:info().syn_queue)
    assert.equal(2, stack:stats().retransmits)
  end)
end)

describe("listener queues", function()
  it("drop a SYN when the accept queue is full, counting listen_overflows", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80, { backlog = 2 })
    for port = 1, 2 do
      H.peer_connect(net, peer, H.SERVER, 80, { sport = port })
    end
    assert.equal(2, listener:info().accept_queue)
    peer:send{ to = H.SERVER, sport = 3, dport = 80, flags = "S", seq = 100 }
    assert.is_nil(peer:receive(0.5))
    assert.equal(1, stack:stats().listen_overflows)
    local first = assert(listener:accept()) -- kept: collected, it would close
    peer:send{ to = H.SERVER, sport = 3, dport = 80, flags = "S", seq = 100 }
    peer:expect("S.")
    assert.equal("ESTABLISHED", first:info().state)
  end)

  it("bound half-open connections by max_syn_backlog (syncookies = \"never\")", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { max_syn_backlog = 3, syncookies = "never" })
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    for port = 1, 10 do
      peer:send{ to = H.SERVER, sport = port, dport = 80, flags = "S", seq = 100 }
    end
    net:run(0.1)
    assert.equal(3, listener:info().syn_queue)
    assert.equal(7, stack:stats().listen_overflows)
  end)

  it("reset what waits in them when the listener closes", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    local isn = H.peer_connect(net, peer, H.SERVER, 80, { sport = 1 })
    listener:close()
    peer:expect("R")
    assert.equal(0, #stack:connections())
    assert.truthy(isn)
  end)
end)
