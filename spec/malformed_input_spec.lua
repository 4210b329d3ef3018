-- Hostile input: every malformed packet is dropped and counted, gets no
-- reply, and leaves the connections of the stack unharmed (DESIGN.md,
-- principle 3; RFC 9293 §3.1 and RFC 1122 §3.2.1 on the header fields).
local synack = require "synack"
local H = require "helper"

local function u16(s, i) return s:byte(i) * 256 + s:byte(i + 1) end

-- The IPv4 header checksum, recomputed after a field was changed on
-- purpose, so that only the intended fault is present.
local function fix_ip_checksum(pkt)
  local ihl = (pkt:byte(1) & 15) * 4
  if #pkt < 20 or ihl < 20 or ihl > #pkt then return pkt end
  local hdr = pkt:sub(1, 10) .. "\0\0" .. pkt:sub(13, ihl)
  local sum = 0
  for i = 1, ihl, 2 do sum = sum + u16(hdr, i) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  sum = ~sum & 0xffff
  return pkt:sub(1, 10) .. string.char(sum >> 8, sum & 255) .. pkt:sub(13)
end

local function set_byte(s, i, v) return s:sub(1, i - 1) .. string.char(v) .. s:sub(i + 1) end
local function set_u16(s, i, v) return s:sub(1, i - 1) .. string.char(v >> 8, v & 255) .. s:sub(i + 2) end

local function syn(extra)
  local t = { from = H.PEER, to = H.SERVER, sport = 4444, dport = 80, flags = "S", seq = 1 }
  for k, v in pairs(extra or {}) do t[k] = v end
  return synack.segment.build(t)
end

describe("malformed packets", function()
  local net, stack, peer, listener, client_conn, accepted

  before_each(function()
    net = H.net()
    stack = net:host(H.SERVER)
    peer = net:peer(H.PEER)
    local client = net:host(H.CLIENT)
    listener = stack:listen(80, { on_accept = function(c) accepted = c end })
    client_conn = client:connect(H.SERVER, 80)
    net:run(0.1)
  end)

  -- bytes get no reply, add one to `counter` and to the drop `reason`,
  -- and the stack's trace shows the reason on the packet.
  local function sent_garbage(bytes, counter, reason)
    local before = stack:stats()
    local trace = stack:trace()
    peer:send_raw(bytes)
    assert.is_nil(peer:receive(1)) -- no reply at all
    local after = stack:stats()
    assert.equal(before[counter] + 1, after[counter], counter)
    assert.equal(before.drops[reason] + 1, after.drops[reason], reason)
    assert.equal(synack.drops[reason], counter)
    assert.equal(1, #trace)
    assert.equal(reason, trace[1].drop)
    assert.truthy(tostring(trace):find("(dropped: " .. reason .. ")", 1, true))
    -- and the established connection is unharmed
    assert.equal(5, client_conn:write("still"))
    net:run(0.1)
    assert.equal("still", accepted:read())
  end

  it("never delivers a packet too short to carry a destination address", function()
    local trace = net:trace()
    peer:send_raw(syn():sub(1, 19)) -- the switch cannot route it
    assert.is_nil(peer:receive(1))
    assert.is_true(trace[1].malformed)
    assert.is_true(trace[1].dropped)
    sent_garbage(syn():sub(1, 20), "malformed", "bad IPv4 length") -- an IPv4 header and no TCP
  end)

  it("drops a packet whose version is not 4 (malformed)", function()
    sent_garbage(fix_ip_checksum(set_byte(syn(), 1, 0x65)), "malformed", "bad IPv4 header")
  end)

  it("drops a header length below 20 bytes (malformed)", function()
    sent_garbage(fix_ip_checksum(set_byte(syn(), 1, 0x44)), "malformed", "bad IPv4 header")
  end)

  it("drops a header length beyond the total length (malformed)", function()
    local p = syn()
    p = set_u16(p, 3, 20) -- total length 20, but IHL says 60
    sent_garbage(fix_ip_checksum(set_byte(p:sub(1, 20), 1, 0x4f)), "malformed", "bad IPv4 length")
  end)

  it("drops a total length longer than the packet (malformed)", function()
    local p = syn()
    sent_garbage(fix_ip_checksum(set_u16(p, 3, #p + 10)), "malformed", "bad IPv4 length")
  end)

  it("drops a total length shorter than the packet (malformed)", function()
    local p = syn()
    sent_garbage(fix_ip_checksum(set_u16(p, 3, #p - 4)), "malformed", "bad IPv4 length")
  end)

  it("drops a bad IPv4 header checksum (bad_checksum)", function()
    local p = syn()
    sent_garbage(set_byte(p, 11, p:byte(11) ~ 0xff), "bad_checksum", "bad IPv4 checksum")
  end)

  it("drops a bad TCP checksum without any reply (bad_checksum)", function()
    sent_garbage(syn{ bad_checksum = true }, "bad_checksum", "bad checksum")
  end)

  it("drops a TCP data offset below 5 words (malformed)", function()
    local p = syn()
    sent_garbage(set_byte(p, 33, 0x40), "malformed", "bad TCP header") -- checksum never read
  end)

  it("drops a TCP data offset past the end of the packet (malformed)", function()
    sent_garbage(set_byte(syn(), 33, 0xf0), "malformed", "bad TCP header")
  end)

  it("drops a TCP header cut short (malformed)", function()
    local p = syn():sub(1, 30)
    sent_garbage(fix_ip_checksum(set_u16(p, 3, 30)), "malformed", "bad TCP header")
  end)

  it("drops other protocols (not_tcp)", function()
    sent_garbage(fix_ip_checksum(set_byte(syn(), 10, 17)), "not_tcp", "not TCP")
  end)

  it("drops IPv4 fragments: no reassembly (ip_fragments)", function()
    sent_garbage(fix_ip_checksum(set_u16(syn(), 7, 0x2000)), "ip_fragments", "IPv4 fragment") -- MF
    sent_garbage(fix_ip_checksum(set_u16(syn(), 7, 0x0001)), "ip_fragments", "IPv4 fragment") -- offset
  end)

  it("stops reading options at one whose length is 0, and keeps what came before", function()
    -- MSS 1000, then a kind-99 option of length 0: parsing stops there
    local p = syn{ raw_options = "\2\4\3\232" .. "\99\0\0\0" }
    peer:send_raw(p)
    local sa = peer:expect("S.", { ack = 2 })
    assert.truthy(sa)
  end)

  it("ignores an option that runs past the header", function()
    peer:send_raw(syn{ raw_options = "\1\1\2\40" }) -- MSS claims 40 bytes
    peer:expect("S.", { ack = 2 })
  end)
end)

describe("segment.parse", function()
  it("parses what segment.build builds, options included", function()
    local t = { from = "1.2.3.4", to = "5.6.7.8", sport = 1, dport = 2, flags = "FSRP.U",
                seq = 4294967295, ack = 7, win = 1234, urg = 3, data = "hello", ttl = 9, id = 77,
                options = { mss = 1400, wscale = 7, sackok = true, ts = { 1, 2 },
                            sack = { { 10, 20 }, { 30, 40 } } } }
    local s = assert(synack.segment.parse(synack.segment.build(t)))
    for k, v in pairs(t) do assert.same(v, s[k], k) end
    assert.equal(5, s.len)
    assert.is_nil(s.bad_checksum)
  end)

  it("reports a bad checksum rather than refusing the packet", function()
    local s = synack.segment.parse(synack.segment.build{ from = "1.2.3.4", to = "5.6.7.8",
      sport = 1, dport = 2, bad_checksum = true })
    assert.is_true(s.bad_checksum)
  end)

  it("returns nil and a reason for bytes that are not a TCP segment", function()
    local s, err = synack.segment.parse("nonsense")
    assert.is_nil(s)
    assert.equal("bad IPv4 header", err)
  end)

  it("wraps sequence numbers modulo 2^32 when building", function()
    local s = synack.segment.parse(synack.segment.build{ from = "1.2.3.4", to = "5.6.7.8",
      sport = 1, dport = 2, seq = 2^32 + 5, ack = -1 })
    assert.equal(5, s.seq)
    assert.equal(4294967295, s.ack)
  end)
end)
