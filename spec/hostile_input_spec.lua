-- Hostile input, field by field (issue 6): for each class of bad value the
-- RFC's answer (drop silently, RST or challenge ACK), a counter, and the
-- connection unharmed.  Header lengths, checksums and fragments are in
-- malformed_input_spec.lua; urgent pointers in rfc6093_urgent_mss_spec.lua.
local synack = require "synack"
local H = require "helper"

local send = H.send

-- An accepted connection from the scripted peer, and `ok(n)`: the peer's
-- next in-window data arrives and is acknowledged, i.e. the connection
-- is unharmed.  `nxt` is the peer's next sequence number.
local function established(cfg, opts)
  local net, stack, peer, conn, isn, iss = H.accepted(cfg or { challenge_ack_interval = 0 }, opts)
  local c = { net = net, stack = stack, peer = peer, conn = conn, iss = iss, nxt = isn + 1 }
  function c.ok()
    send(peer, { flags = "P.", seq = c.nxt, ack = iss + 1, data = "ok" })
    peer:expect(".", { ack = (c.nxt + 2) & 0xffffffff }, 1)
    c.nxt = (c.nxt + 2) & 0xffffffff
    assert.equal("ok", conn:read())
    assert.equal("ESTABLISHED", conn:info().state)
  end
  return c
end

local function counted(stack, counter, f)
  local before = stack:stats()[counter]
  f()
  return stack:stats()[counter] - before
end

-- IPv4 options are spliced in by hand: segment.build writes a 20-byte header.
local function with_ip_options(pkt, opts)
  local ihl = 20 + #opts
  local total = #pkt + #opts
  local hdr = string.char(0x40 | ihl // 4, pkt:byte(2), total >> 8, total & 255) ..
              pkt:sub(5, 10) .. "\0\0" .. pkt:sub(13, 20) .. opts
  local sum = 0
  for i = 1, ihl, 2 do sum = sum + hdr:byte(i) * 256 + hdr:byte(i + 1) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  sum = ~sum & 0xffff
  return hdr:sub(1, 10) .. string.char(sum >> 8, sum & 255) .. hdr:sub(13) .. pkt:sub(21)
end

describe("IPv4 options (RFC 791 §3.1, RFC 1122 §3.2.1.8)", function()
  it("are skipped when well formed: record route, NOPs", function()
    local c = established()
    c.peer:send_raw(with_ip_options(synack.segment.build{ from = H.PEER, to = H.SERVER,
      sport = 40000, dport = 80, flags = "P.", seq = c.nxt, ack = c.iss + 1, data = "rr" },
      "\7\7\4\0\0\0\0\1"))
    c.peer:expect(".", { ack = c.nxt + 2 }, 1)
    c.nxt = c.nxt + 2
    assert.equal("rr", c.conn:read())
  end)

  it("with a source route drop the packet (ip_source_route), as Linux's default", function()
    local c = established()
    for _, kind in ipairs { 131, 137 } do -- loose, strict
      assert.equal(1, counted(c.stack, "ip_source_route", function()
        c.peer:send_raw(with_ip_options(synack.segment.build{ from = H.PEER, to = H.SERVER,
          sport = 40000, dport = 80, flags = "P.", seq = c.nxt, ack = c.iss + 1, data = "sr" },
          string.char(kind, 7, 4, 10, 0, 0, 9, 1)))
        assert.is_nil(c.peer:receive(0.5))
      end))
    end
    c.ok()
  end)

  it("of impossible length drop the packet (malformed)", function()
    local c = established()
    for _, opts in ipairs { "\7\0\0\0", "\7\1\0\0", "\1\7\9\0", "\1\1\1\7" } do
      assert.equal(1, counted(c.stack, "malformed", function()
        c.peer:send_raw(with_ip_options(synack.segment.build{ from = H.PEER, to = H.SERVER,
          sport = 40000, dport = 80, flags = "S", seq = 1 }, opts))
        assert.is_nil(c.peer:receive(0.5))
      end))
    end
    assert.equal(4, c.stack:stats().drops["bad IPv4 options"])
    c.ok()
  end)
end)

describe("source addresses (RFC 1122 §3.2.1.3)", function()
  local function from(c, addr)
    c.peer:send_raw(synack.segment.build{ from = addr, to = H.SERVER, sport = 40000, dport = 80,
      flags = "S", seq = 1 })
    assert.is_nil(c.peer:receive(0.5))
  end

  it("equal to the stack's own (LAND) are dropped without a reply", function()
    local c = established()
    assert.equal(1, counted(c.stack, "land", function() from(c, H.SERVER) end))
    c.ok()
  end)

  it("broadcast, multicast, 0/8, 127/8 or 240/4 are dropped without a reply", function()
    local c = established()
    for _, addr in ipairs { "255.255.255.255", "224.0.0.1", "239.1.2.3", "0.0.0.0", "0.1.2.3",
                            "127.0.0.1", "240.0.0.1" } do
      assert.equal(1, counted(c.stack, "bad_source", function() from(c, addr) end), addr)
    end
    c.ok()
  end)
end)

describe("TCP options", function()
  it("of length 1 end the option list (bad_options); the segment is processed", function()
    local c = established()
    assert.equal(1, counted(c.stack, "bad_options", function()
      send(c.peer, { flags = "P.", seq = c.nxt, ack = c.iss + 1, data = "ab", raw_options = "\99\1\0\0" })
      c.peer:expect(".", { ack = c.nxt + 2 }, 1)
      c.nxt = c.nxt + 2
    end))
    assert.equal("ab", c.conn:read())
  end)

  it("MSS of the wrong length or 0 counts as no MSS: 536 (RFC 9293 §3.7.1)", function()
    for _, raw in ipairs { "\2\3\5\0", "\2\4\0\0", "\2\6\5\180\0\0" } do
      local net = H.net()
      local stack = net:host(H.SERVER)
      local peer = net:peer(H.PEER)
      local got
      local l = stack:listen(80, { on_accept = function(conn) got = conn end })
      peer:send{ to = H.SERVER, sport = 1, dport = 80, flags = "S", seq = 9, raw_options = raw }
      local sa = peer:expect("S.")
      peer:send{ to = H.SERVER, sport = 1, dport = 80, flags = ".", seq = 10, ack = sa.seq + 1 }
      net:run(0.05)
      assert.equal(536, got:info().mss)
      assert.equal(1, stack:stats().bad_options)
      l:close()
    end
  end)

  it("timestamps of the wrong length are no timestamps: dropped once agreed (RFC 7323 §3.2)", function()
    local c = established(nil, { options = { mss = 1460, ts = { 1, 0 } } })
    assert.is_true(c.conn:info().timestamps)
    assert.equal(1, counted(c.stack, "ts_missing", function()
      send(c.peer, { flags = "P.", seq = c.nxt, ack = c.iss + 1, data = "x", raw_options = "\8\6\0\0\0\9\0\0" })
      assert.is_nil(c.peer:receive(0.5))
    end))
    assert.equal(1, c.stack:stats().bad_options)
    assert.equal("", c.conn:read())
  end)

  it("SACK blocks of a length not a multiple of 8 are ignored (bad_options)", function()
    local c = established(nil, { options = { mss = 1460, sackok = true } })
    c.conn:write(string.rep("d", 3000))
    c.net:run(0.05)
    assert.equal(1, counted(c.stack, "bad_options", function()
      send(c.peer, { flags = ".", seq = c.nxt, ack = c.iss + 1,
                     raw_options = "\1\1\5\14" .. string.rep("\0", 12) .. "\0\0" })
      c.net:run(0.05)
    end))
    assert.equal(0, c.stack:stats().sack_blocks_ignored)
    H.drain(c.peer)
    c.ok()
  end)

  it("unknown kinds are skipped (RFC 9293 §3.1 MUST-6), options after them read", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local l = stack:listen(80)
    peer:send{ to = H.SERVER, sport = 1, dport = 80, flags = "S", seq = 9,
               raw_options = "\254\6\1\2\3\4\2\4\4\0" } -- kind 254, then MSS 1024
    peer:expect("S.")
    assert.equal(0, stack:stats().bad_options)
    assert.equal(1024, stack:connections()[2].mss)
    l:close()
  end)
end)

describe("flag combinations", function()
  it("SYN+FIN, alone or among all six, is dropped by a listener and a connection", function()
    local c = established()
    for _, flags in ipairs { "FS", "FSRP.U" } do
      assert.equal(1, counted(c.stack, "bad_flags", function() -- to the listener
        send(c.peer, { sport = 41000, flags = flags, seq = 1, ack = 1 })
        assert.is_nil(c.peer:receive(0.5))
      end), flags)
      assert.equal(1, counted(c.stack, "bad_flags", function() -- to the connection
        send(c.peer, { flags = flags, seq = c.nxt, ack = c.iss + 1 })
        assert.is_nil(c.peer:receive(0.5))
      end), flags)
    end
    assert.equal(4, c.stack:stats().drops["SYN with FIN"])
    c.ok()
  end)

  it("SYN+FIN to a closed port gets no RST either", function()
    local c = established()
    c.peer:send{ to = H.SERVER, sport = 1, dport = 81, flags = "FS", seq = 1 }
    assert.is_nil(c.peer:receive(0.5))
    assert.equal(0, c.stack:stats().rst_sent)
  end)

  it("no flags at all: dropped by a connection and a listener, RST from a closed port", function()
    local c = established()
    assert.equal(2, counted(c.stack, "bad_flags", function()
      send(c.peer, { flags = "", seq = c.nxt, data = "zz" })
      send(c.peer, { sport = 41000, flags = "", seq = 1 })
      assert.is_nil(c.peer:receive(0.5))
    end))
    assert.equal(2, c.stack:stats().drops["no ACK"])
    c.peer:send{ to = H.SERVER, sport = 1, dport = 81, flags = "", seq = 7, data = "q" }
    c.peer:expect("R.", { seq = 0, ack = 8 }) -- §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
    c.ok()
  end)

  it("SYN+RST: a listener ignores the RST; a connection answers a challenge ACK (RFC 5961)", function()
    local c = established()
    assert.equal(1, counted(c.stack, "rst_ignored", function()
      send(c.peer, { sport = 41000, flags = "SR", seq = 1 })
      assert.is_nil(c.peer:receive(0.5))
    end))
    assert.equal(1, counted(c.stack, "challenge_acks", function()
      send(c.peer, { flags = "SR", seq = c.nxt + 10, ack = c.iss + 1 })
      c.peer:expect(".", { seq = c.iss + 1, ack = c.nxt })
    end))
    c.ok()
  end)
end)

describe("the peer's ISN", function()
  for _, isn in ipairs { 0, 0xffffffff, 0xfffffff0 } do
    it(("%#x works, the sequence space wrapping under the data"):format(isn), function()
      local c = established(nil, { isn = isn })
      for _ = 1, 20 do c.ok() end
      assert.equal((isn + 41) & 0xffffffff, c.conn:info().rcv_nxt)
    end)
  end
end)

describe("sequence numbers at the window's edges (RFC 9293 §3.10.7.4)", function()
  it("are judged by the four cases, octet for octet", function()
    local c = established()
    local peer, nxt, iss = c.peer, c.nxt, c.iss
    local wnd = c.conn:info().rcv_wnd
    local function oow(t) -- not acceptable: an ACK of RCV.NXT, nothing kept
      assert.equal(1, counted(c.stack, "out_of_window", function()
        t.ack = iss + 1
        send(peer, t)
        peer:expect(".", { ack = nxt }, 1)
      end))
    end
    oow{ flags = ".", seq = nxt - 1, data = "a" }   -- wholly before RCV.NXT
    oow{ flags = ".", seq = nxt + wnd, data = "b" } -- first octet past the window
    oow{ flags = ".", seq = nxt + wnd }             -- empty, at RCV.NXT+RCV.WND
    oow{ flags = ".", seq = nxt - 1 }               -- empty, before RCV.NXT
    -- the last octet of the window: held out of order, a duplicate ACK
    send(peer, { flags = ".", seq = nxt + wnd - 1, ack = iss + 1, data = "z" })
    peer:expect(".", { ack = nxt }, 1)
    assert.equal(1, c.conn:info().ooo_bytes)
    -- straddling RCV.NXT: the old octet trimmed, the new one kept
    send(peer, { flags = "P.", seq = nxt - 1, ack = iss + 1, data = "xy" })
    peer:expect(".", { ack = nxt + 1 }, 1)
    assert.equal("y", c.conn:read())
    c.nxt = nxt + 1
    c.ok()
    assert.equal(1, c.conn:info().ooo_bytes)
  end)
end)
