-- RFC 2018 selective acknowledgments, RFC 2883 D-SACK, and RFC 6675 loss
-- recovery that resends only the holes.
local synack = require "synack"
local H = require "helper"
local send, drain = H.send, H.drain
local MSS = 1460

-- A peer connected with SACK (and timestamps if ts is given).
local function sack_peer(cfg, ts)
  local opts = { mss = 1460, sackok = true }
  if ts then opts.ts = { 1, 0 } end
  local net, stack, peer, conn, isn, iss = H.accepted(cfg, { options = opts })
  return net, stack, peer, conn, isn, iss
end

describe("RFC 2018 §2 SACK-permitted", function()
  it("is agreed when both SYNs carry it, and offered back only then", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    send(peer, { sport = 1, flags = "S", seq = 1, options = { mss = 1460, sackok = true } })
    assert.is_true(peer:expect("S.").options.sackok)
    send(peer, { sport = 2, flags = "S", seq = 1, options = { mss = 1460 } })
    assert.is_nil(peer:expect("S.").options.sackok)
  end)

  it("is not offered with sack = false", function()
    local net, client, server = H.pair(nil, { sack = false })
    local listener = server:listen(80)
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.is_nil(trace[1].options.sackok)
    assert.is_false(conn:info().sack)
  end)
end)

describe("RFC 2018 §4 the receiver's blocks", function()
  it("reports data held out of order", function()
    local net, stack, peer, conn, isn, iss = sack_peer()
    send(peer, { flags = "P.", seq = isn + 101, ack = iss + 1, data = string.rep("b", 100) })
    local a = peer:expect(".", { ack = isn + 1 })
    assert.same({ { isn + 101, isn + 201 } }, a.options.sack)
  end)

  it("puts the block holding the latest segment first", function()
    local net, stack, peer, conn, isn, iss = sack_peer()
    send(peer, { flags = "P.", seq = isn + 101, ack = iss + 1, data = string.rep("b", 100) })
    peer:expect(".")
    send(peer, { flags = "P.", seq = isn + 301, ack = iss + 1, data = string.rep("d", 100) })
    local a = peer:expect(".")
    assert.same({ { isn + 301, isn + 401 }, { isn + 101, isn + 201 } }, a.options.sack)
    send(peer, { flags = "P.", seq = isn + 201, ack = iss + 1, data = string.rep("c", 50) })
    a = peer:expect(".")
    assert.same({ { isn + 101, isn + 251 }, { isn + 301, isn + 401 } }, a.options.sack)
  end)

  it("sends at most four blocks, three beside timestamps (40 octets of options)", function()
    for _, ts in ipairs { false, true } do
      local net, stack, peer, conn, isn, iss = sack_peer(nil, ts)
      local a
      for i = 1, 6 do
        send(peer, { flags = "P.", seq = isn + 1 + 200 * i, ack = iss + 1, data = "x",
                     options = ts and { ts = { 10 + i, 0 } } or nil })
        a = peer:expect(".")
      end
      assert.equal(ts and 3 or 4, #a.options.sack)
      assert.same({ isn + 1201, isn + 1202 }, a.options.sack[1])
    end
  end)

  it("reports a duplicate with a D-SACK block (RFC 2883)", function()
    local net, stack, peer, conn, isn, iss = sack_peer()
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "hello" })
    peer:expect(".", { ack = isn + 6 })
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "hello" }) -- again
    local a = peer:expect(".", { ack = isn + 6 })
    assert.same({ { isn + 1, isn + 6 } }, a.options.sack)
  end)

  it("keeps the first copy of an octet when copies differ (no corruption of the stream)", function()
    local net, stack, peer, conn, isn, iss = sack_peer()
    send(peer, { flags = "P.", seq = isn + 6, ack = iss + 1, data = "WORLD" })
    send(peer, { flags = "P.", seq = isn + 4, ack = iss + 1, data = "xxxxxxxxx" }) -- both ends
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "hel" })
    net:run(0.1)
    assert.equal("helxxWORLDxx", conn:read())
  end)
end)

describe("RFC 6675 loss recovery with the scoreboard", function()
  -- The peer acknowledges each segment as it arrives, as a receiver does:
  -- the cumulative ACK, and SACK blocks for what it holds past the holes,
  -- the latest first.
  local function flight_and_sack(lost)
    local net, stack, peer, conn, isn, iss = sack_peer({ rto_min = 5 })
    conn:write(string.rep("s", 100000))
    local segs = drain(peer)
    assert.equal(10, #segs)
    local cum, held, recent = iss + 1, {}, nil
    for i, s in ipairs(segs) do
      if not lost[i] then
        if s.seq == cum then cum = s.seq + s.len else held[#held + 1] = s; recent = s end
        local blocks, cur = {}, nil
        for _, h in ipairs(held) do
          if cur and cur[2] == h.seq then cur[2] = h.seq + h.len
          else cur = { h.seq, h.seq + h.len }; blocks[#blocks + 1] = cur end
        end
        table.sort(blocks, function(a) return recent and a[1] <= recent.seq and recent.seq < a[2] end)
        send(peer, { flags = ".", seq = isn + 1, ack = cum,
                     options = #blocks > 0 and { sack = { table.unpack(blocks, 1, 4) } } or nil })
      end
    end
    return net, stack, peer, conn, isn, iss, segs
  end

  it("resends only the hole when one segment is lost", function()
    local net, stack, peer, conn, isn, iss, segs = flight_and_sack({ [1] = true })
    local resent = {}
    for _, s in ipairs(drain(peer)) do
      if s.seq < segs[10].seq + MSS then resent[#resent + 1] = s.seq end
    end
    assert.same({ segs[1].seq }, resent)
    assert.equal(1, stack:stats().fast_retransmits)
    assert.equal(0, stack:stats().timeouts)
  end)

  it("resends exactly the two holes when two segments are lost", function()
    local net, stack, peer, conn, isn, iss, segs = flight_and_sack({ [1] = true, [5] = true })
    local resent = {}
    for _, s in ipairs(drain(peer)) do
      if s.seq < segs[10].seq + MSS then resent[#resent + 1] = s.seq end
    end
    table.sort(resent)
    assert.same({ segs[1].seq, segs[5].seq }, resent)
    assert.equal(0, stack:stats().timeouts)
  end)

  it("ignores SACK blocks outside (SND.UNA, SND.MAX], and counts them", function()
    local net, stack, peer, conn, isn, iss = sack_peer({ rto_min = 5 })
    conn:write(string.rep("s", 2000))
    drain(peer)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1,
                 options = { sack = { { iss + 5000, iss + 6000 }, { iss - 100, iss }, { iss + 10, iss + 5 } } } })
    net:run(0.1)
    assert.equal(3, stack:stats().sack_blocks_ignored)
    assert.equal(0, stack:stats().fast_retransmits)
  end)
end)

describe("SACK between two synack stacks", function()
  it("finishes a lossy bulk transfer sooner than without SACK, over several seeds", function()
    local function run(sack, seed)
      local net = synack.sim{ seed = seed, delay = 0.01, loss = 0.05 }
      local client = net:host(H.CLIENT, { sack = sack })
      local server = net:host(H.SERVER, { sack = sack })
      local got = {}
      server:listen(80, { on_accept = function(c) c:on("data", function(_, d) got[#got + 1] = d end) end })
      local payload = string.rep("abcdefghij", 200000)
      local conn = client:connect(H.SERVER, 80)
      local w = H.writer(conn)
      conn:on("connect", function() w.write(payload) end)
      net:run(function() return #table.concat(got) >= #payload end, 600)
      assert.equal(payload, table.concat(got))
      return net:now()
    end
    local with, without = 0, 0
    for seed = 1, 4 do
      with = with + run(true, seed)
      without = without + run(false, seed)
    end
    assert.is_true(with < without, ("%.2f s vs %.2f s"):format(with, without))
  end)
end)
