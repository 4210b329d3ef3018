-- RFC 9293 §3.10.7 SEGMENT ARRIVES, state by state: a scripted peer brings
-- the stack into each state, sends one segment of each kind (RST, SYN, a
-- bare ACK, data, FIN, data outside the window), and the spec asserts the
-- exact reply, or that there is none, and the state afterwards.
local H = require "helper"

local PORT = 80
-- Retransmissions would blur "exactly the reply": the RTO is kept long.
local CFG = { rto_min = 5, rto_initial = 5 }

-- A fresh stack in `state`, with what a segment needs to be exact:
-- ctx.seq (the peer's next sequence number), ctx.nxt (the stack's SND.NXT
-- as the peer sees it), and ctx.ack (what the peer acknowledges in data
-- and FIN segments: everything but a FIN it must not have seen yet).
local function reach(state)
  local net = H.net()
  local stack = net:host(H.SERVER, CFG)
  local peer = net:peer(H.PEER)
  local ctx = { net = net, stack = stack, peer = peer, sport = 40000 }
  function ctx.send(t)
    t.to, t.sport, t.dport = H.SERVER, t.sport or ctx.sport, t.dport or PORT
    peer:send(t)
  end
  function ctx.state() -- of the one connection, as connections() has it
    for _, row in ipairs(stack:connections()) do
      if row.remote_addr == H.PEER then return row.state end
    end
    return "CLOSED"
  end
  if state == "CLOSED" then
    ctx.seq, ctx.ack, ctx.nxt = 1000, 5000, 5000
    return ctx
  end
  ctx.listener = stack:listen(PORT, { on_accept = function(c) ctx.conn = c end })
  if state == "LISTEN" then
    ctx.seq, ctx.ack, ctx.nxt = 1000, 5000, 5000
    return ctx
  end
  if state == "SYN-SENT" then
    ctx.conn = stack:connect(H.PEER, PORT)
    local syn = peer:expect("S")
    ctx.sport, ctx.iss = syn.sport, syn.seq
    ctx.seq, ctx.ack, ctx.nxt = 7000, syn.seq + 1, syn.seq + 1
    ctx.send = function(t)
      t.to, t.sport, t.dport = H.SERVER, PORT, ctx.sport
      peer:send(t)
    end
    return ctx
  end
  ctx.send{ flags = "S", seq = 1000, options = { mss = 1460 } }
  local sa = peer:expect("S.", { ack = 1001 })
  ctx.iss = sa.seq
  ctx.seq, ctx.ack, ctx.nxt = 1001, sa.seq + 1, sa.seq + 1
  if state == "SYN-RECEIVED" then return ctx end
  ctx.send{ flags = ".", seq = 1001, ack = ctx.nxt }
  net:run(0.05)
  if state == "ESTABLISHED" then return ctx end
  local function our_fin()
    ctx.conn:shutdown()
    peer:expect("F.", { seq = ctx.nxt })
    ctx.nxt = ctx.nxt + 1
  end
  local function their_fin(ack)
    ctx.send{ flags = "F.", seq = ctx.seq, ack = ack }
    ctx.seq = ctx.seq + 1
    peer:expect(".", { ack = ctx.seq })
  end
  if state == "CLOSE-WAIT" or state == "LAST-ACK" then
    their_fin(ctx.ack)
    if state == "LAST-ACK" then our_fin() end
    return ctx
  end
  our_fin()                                        -- FIN-WAIT-1
  if state == "FIN-WAIT-1" then return ctx end
  if state == "CLOSING" then their_fin(ctx.ack) return ctx end
  ctx.send{ flags = ".", seq = ctx.seq, ack = ctx.nxt } -- FIN-WAIT-2
  net:run(0.05)
  ctx.ack = ctx.nxt
  if state == "FIN-WAIT-2" then return ctx end
  their_fin(ctx.nxt)                               -- TIME-WAIT
  return ctx
end

-- The segments, built from the context.
local SEGMENTS = {
  RST = function(c) return { flags = "R", seq = c.seq } end,
  ["RST,ACK"] = function(c) return { flags = "R.", seq = c.seq, ack = c.nxt } end,
  SYN = function(c) return { flags = "S", seq = c.seq + 100 } end,
  ["old SYN"] = function(c) return { flags = "S", seq = c.seq - 50 } end,
  ACK = function(c) return { flags = ".", seq = c.seq, ack = c.nxt } end,
  data = function(c) return { flags = "P.", seq = c.seq, ack = c.ack, data = "hello" } end,
  FIN = function(c) return { flags = "F.", seq = c.seq, ack = c.ack } end,
  ["out-of-window"] = function(c)
    return { flags = "P.", seq = c.seq + 1000000, ack = c.ack, data = "far" }
  end,
  ["bad ACK"] = function(c) return { flags = ".", seq = c.seq, ack = c.nxt + 5 } end,
  ["data, no ACK"] = function(c) return { flags = "P", seq = c.seq, data = "hello" } end,
  ["FIN, no ACK"] = function(c) return { flags = "F", seq = c.seq } end,
}

-- What comes back: nil (nothing), or flags and the fields to check, as
-- functions of the context (c) so that they are exact.
local ACK_SAME = function(c) return { flags = ".", seq = c.nxt, ack = c.seq } end
local ACK_DATA = function(c) return { flags = ".", seq = c.nxt, ack = c.seq + 5 } end
local ACK_FIN = function(c) return { flags = ".", seq = c.nxt, ack = c.seq + 1 } end

local TABLE = {
  -- §3.10.7.1: no connection at all
  { "CLOSED", "RST", nil, "CLOSED" },
  { "CLOSED", "SYN", function(c) return { flags = "R.", seq = 0, ack = c.seq + 101 } end, "CLOSED" },
  { "CLOSED", "ACK", function(c) return { flags = "R", seq = c.nxt } end, "CLOSED" },
  { "CLOSED", "data", function(c) return { flags = "R", seq = c.ack } end, "CLOSED" },
  { "CLOSED", "FIN, no ACK", function(c) return { flags = "R.", seq = 0, ack = c.seq + 1 } end, "CLOSED" },
  -- §3.10.7.2: LISTEN
  { "LISTEN", "RST", nil, "CLOSED" },
  { "LISTEN", "SYN", function(c) return { flags = "S.", ack = c.seq + 101 } end, "SYN-RECEIVED" },
  { "LISTEN", "ACK", function(c) return { flags = "R", seq = c.nxt } end, "CLOSED" },
  { "LISTEN", "data", function(c) return { flags = "R", seq = c.ack } end, "CLOSED" },
  { "LISTEN", "FIN", function(c) return { flags = "R", seq = c.ack } end, "CLOSED" },
  { "LISTEN", "data, no ACK", nil, "CLOSED" },
  -- §3.10.7.3: SYN-SENT
  { "SYN-SENT", "RST", nil, "SYN-SENT" },
  { "SYN-SENT", "RST,ACK", nil, "CLOSED" },
  { "SYN-SENT", "SYN", function(c) return { flags = "S.", seq = c.iss, ack = c.seq + 101 } end, "SYN-RECEIVED" },
  { "SYN-SENT", "ACK", nil, "SYN-SENT" },
  { "SYN-SENT", "bad ACK", function(c) return { flags = "R", seq = c.nxt + 5 } end, "SYN-SENT" },
  { "SYN-SENT", "data", nil, "SYN-SENT" },
  { "SYN-SENT", "FIN", nil, "SYN-SENT" },
  -- §3.10.7.4, SYN-RECEIVED of a passive open
  { "SYN-RECEIVED", "RST", nil, "CLOSED" },       -- back to LISTEN
  { "SYN-RECEIVED", "SYN", nil, "CLOSED" },       -- back to LISTEN
  { "SYN-RECEIVED", "ACK", nil, "ESTABLISHED" },
  { "SYN-RECEIVED", "data", function(c) return { flags = ".", seq = c.nxt, ack = c.seq + 5 } end, "ESTABLISHED" },
  { "SYN-RECEIVED", "FIN", function(c) return { flags = ".", seq = c.nxt, ack = c.seq + 1 } end, "CLOSE-WAIT" },
  { "SYN-RECEIVED", "out-of-window", ACK_SAME, "SYN-RECEIVED" },
  { "SYN-RECEIVED", "bad ACK", function(c) return { flags = "R", seq = c.nxt + 5 } end, "SYN-RECEIVED" },
  -- §3.10.7.4, the synchronized states
  { "ESTABLISHED", "RST", nil, "CLOSED" },
  { "ESTABLISHED", "SYN", ACK_SAME, "ESTABLISHED" }, -- challenge ACK
  { "ESTABLISHED", "ACK", nil, "ESTABLISHED" },
  { "ESTABLISHED", "data", ACK_DATA, "ESTABLISHED" },
  { "ESTABLISHED", "FIN", ACK_FIN, "CLOSE-WAIT" },
  { "ESTABLISHED", "out-of-window", ACK_SAME, "ESTABLISHED" },
  { "ESTABLISHED", "bad ACK", ACK_SAME, "ESTABLISHED" },
  { "FIN-WAIT-1", "RST", nil, "CLOSED" },
  { "FIN-WAIT-1", "SYN", ACK_SAME, "FIN-WAIT-1" },
  { "FIN-WAIT-1", "ACK", nil, "FIN-WAIT-2" },
  { "FIN-WAIT-1", "data", ACK_DATA, "FIN-WAIT-1" },
  { "FIN-WAIT-1", "FIN", ACK_FIN, "CLOSING" },
  { "FIN-WAIT-1", "out-of-window", ACK_SAME, "FIN-WAIT-1" },
  { "FIN-WAIT-2", "RST", nil, "CLOSED" },
  { "FIN-WAIT-2", "SYN", ACK_SAME, "FIN-WAIT-2" },
  { "FIN-WAIT-2", "ACK", nil, "FIN-WAIT-2" },
  { "FIN-WAIT-2", "data", ACK_DATA, "FIN-WAIT-2" },
  { "FIN-WAIT-2", "FIN", ACK_FIN, "TIME-WAIT" },
  { "FIN-WAIT-2", "out-of-window", ACK_SAME, "FIN-WAIT-2" },
  { "CLOSE-WAIT", "RST", nil, "CLOSED" },
  { "CLOSE-WAIT", "SYN", ACK_SAME, "CLOSE-WAIT" },
  { "CLOSE-WAIT", "ACK", nil, "CLOSE-WAIT" },
  { "CLOSE-WAIT", "data", nil, "CLOSE-WAIT" }, -- "ignore the segment text"
  { "CLOSE-WAIT", "FIN", ACK_SAME, "CLOSE-WAIT" }, -- a FIN after the FIN
  { "CLOSE-WAIT", "out-of-window", ACK_SAME, "CLOSE-WAIT" },
  { "CLOSING", "RST", nil, "CLOSED" },
  { "CLOSING", "SYN", ACK_SAME, "CLOSING" },
  { "CLOSING", "ACK", nil, "TIME-WAIT" },
  { "CLOSING", "data", nil, "CLOSING" },
  { "CLOSING", "FIN", nil, "CLOSING" }, -- "otherwise, ignore the segment"
  { "CLOSING", "out-of-window", ACK_SAME, "CLOSING" },
  { "LAST-ACK", "RST", nil, "CLOSED" },
  { "LAST-ACK", "SYN", ACK_SAME, "LAST-ACK" },
  { "LAST-ACK", "ACK", nil, "CLOSED" },
  { "LAST-ACK", "data", nil, "LAST-ACK" },
  { "LAST-ACK", "FIN", ACK_SAME, "LAST-ACK" },
  { "LAST-ACK", "out-of-window", ACK_SAME, "LAST-ACK" },
  { "TIME-WAIT", "RST", nil, "TIME-WAIT" },  -- RFC 1337: no assassination
  { "TIME-WAIT", "SYN", function(c) return { flags = "S.", ack = c.seq + 101 } end,
    "SYN-RECEIVED" },                           -- RFC 6191: a new connection
  { "TIME-WAIT", "old SYN", ACK_SAME, "TIME-WAIT" },
  { "TIME-WAIT", "ACK", nil, "TIME-WAIT" },
  { "TIME-WAIT", "data", nil, "TIME-WAIT" },
  { "TIME-WAIT", "FIN", ACK_SAME, "TIME-WAIT" },
  { "TIME-WAIT", "out-of-window", ACK_SAME, "TIME-WAIT" },
}

describe("RFC 9293 §3.10.7 SEGMENT ARRIVES, every state", function()
  for _, row in ipairs(TABLE) do
    local state, kind, reply, after = row[1], row[2], row[3], row[4]
    local says = reply and "answers" or "does not answer"
    it(("in %s %s %s and ends in %s"):format(state, says, kind, after), function()
      local c = reach(state)
      assert.equal(state == "LISTEN" and "CLOSED" or state, c.state())
      c.send(SEGMENTS[kind](c))
      if reply then
        local want = reply(c)
        local flags = want.flags
        want.flags = nil
        c.peer:expect(flags, want, 0.2)
      end
      assert.is_nil(c.peer:receive(0.2), "no other segment")
      assert.equal(after, c.state())
    end)
  end
end)

describe("RFC 9293 §3.10.7.4 first: the four acceptability tests", function()
  -- SEG.LEN 0 / > 0, RCV.WND 0 / > 0; a scripted peer fills the window
  -- of a stack nobody reads from to get RCV.WND = 0.
  local function full(rcvbuf)
    local net = H.net()
    local stack = net:host(H.SERVER, { rcvbuf = rcvbuf, rto_min = 5, challenge_ack_interval = 0 })
    local peer = net:peer(H.PEER)
    local conn
    local listener = stack:listen(80, { on_accept = function(x) conn = x end })
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80)
    return net, stack, peer, isn + 1, iss + 1, function() return conn end, listener
  end
  local function send(peer, t)
    t.to, t.sport, t.dport = H.SERVER, 40000, 80
    peer:send(t)
  end

  it("length 0, window > 0: acceptable when RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND", function()
    local net, stack, peer, nxt, una = full(1000)
    send(peer, { flags = ".", seq = nxt + 999, ack = una }) -- last in-window
    assert.is_nil(peer:receive(0.2))
    send(peer, { flags = ".", seq = nxt + 1000, ack = una }) -- just past it
    peer:expect(".", { ack = nxt })
    send(peer, { flags = ".", seq = nxt - 1, ack = una })    -- just before
    peer:expect(".", { ack = nxt })
    assert.equal(2, stack:stats().out_of_window)
  end)

  it("length > 0, window > 0: acceptable when its first or last octet is in the window", function()
    local net, stack, peer, nxt, una, conn = full(1000)
    send(peer, { flags = "P.", seq = nxt - 2, ack = una, data = "xyz" }) -- last octet in
    peer:expect(".", { ack = nxt + 1 })
    assert.equal("z", conn():read())
    nxt = nxt + 1
    send(peer, { flags = "P.", seq = nxt - 3, ack = una, data = "old" }) -- all before
    peer:expect(".", { ack = nxt })
    assert.equal("", conn():read())
  end)

  it("length 0, window 0: acceptable only when SEG.SEQ = RCV.NXT", function()
    local net, stack, peer, nxt, una, conn = full(100)
    send(peer, { flags = "P.", seq = nxt, ack = una, data = string.rep("f", 100) })
    peer:expect(".", { ack = nxt + 100, win = 0 })
    nxt = nxt + 100
    send(peer, { flags = ".", seq = nxt, ack = una })
    assert.is_nil(peer:receive(0.2))
    send(peer, { flags = ".", seq = nxt + 1, ack = una })
    peer:expect(".", { ack = nxt, win = 0 })
    assert.truthy(conn())
  end)

  it("length > 0, window 0: not acceptable, but its ACK is used and answered", function()
    local net, stack, peer, nxt, una, conn = full(100)
    send(peer, { flags = "P.", seq = nxt, ack = una, data = string.rep("f", 100) })
    peer:expect(".", { ack = nxt + 100, win = 0 })
    nxt = nxt + 100
    send(peer, { flags = "P.", seq = nxt, ack = una, data = "probe" }) -- a window probe
    peer:expect(".", { ack = nxt, win = 0 })
    assert.equal(100, conn():info().recv_queue)
  end)
end)
