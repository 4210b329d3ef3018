-- ICMP at the host (RFC 1122 §3.2.2): echo answered, and errors about our
-- segments applied only when they quote a sequence number in flight (RFC
-- 1122 §4.2.3.9, RFC 5927 §4.1).
local synack = require "synack"
local H = require "helper"

local function cksum(s)
  local sum = 0
  if #s % 2 == 1 then s = s .. "\0" end
  for i = 1, #s, 2 do sum = sum + s:byte(i) * 256 + s:byte(i + 1) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  return ~sum & 0xffff
end

local function addr(a)
  local b = {}
  for n in a:gmatch("%d+") do b[#b + 1] = string.char(tonumber(n)) end
  return table.concat(b)
end

-- An IPv4 packet carrying ICMP type/code with `info` and `body`.
local function icmp(from, to, typ, code, info, body)
  local m = string.pack(">BBI2I4", typ, code, 0, info or 0) .. body
  m = m:sub(1, 2) .. string.pack(">I2", cksum(m)) .. m:sub(5)
  local h = string.pack(">BBI2I2I2BBI2", 0x45, 0, 20 + #m, 1, 0, 64, 1, 0) .. addr(from) .. addr(to)
  h = h:sub(1, 10) .. string.pack(">I2", cksum(h)) .. h:sub(13)
  return h .. m
end

describe("ICMP (RFC 1122 §3.2.2)", function()
  it("answers an echo request with the same identifier, sequence and data", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local tr = net:trace()
    peer:send_raw(icmp(H.PEER, H.SERVER, 8, 0, 0x12340001, "ping data"))
    net:run(0.1)
    local reply = tr:raw(2)
    assert.equal(0, reply:byte(21))          -- echo reply
    assert.equal(addr(H.PEER), reply:sub(17, 20))
    assert.equal(string.pack(">I4", 0x12340001) .. "ping data", reply:sub(25))
    assert.equal(0, cksum(reply:sub(21)))
    assert.equal(0, cksum(reply:sub(1, 20)))
    assert.equal(1, stack:stats().icmp_echo)
  end)

  it("does not answer an echo request from a broadcast source, or with a bad checksum", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local tr = net:trace()
    peer:send_raw(icmp("255.255.255.255", H.SERVER, 8, 0, 1, "x"))
    local bad = icmp(H.PEER, H.SERVER, 8, 0, 1, "x")
    peer:send_raw(bad:sub(1, 22) .. string.char(bad:byte(23) ~ 1) .. bad:sub(24))
    net:run(0.1)
    assert.equal(2, #tr)
    assert.equal(1, stack:stats().drops["bad source address"])
    assert.equal(1, stack:stats().drops["bad checksum"])
  end)
end)

describe("ICMP errors (RFC 1122 §4.2.3.9, RFC 5927)", function()
  -- A client stack connecting to the peer; returns what the peer saw.
  local function connecting(cfg)
    local net = H.net()
    local stack = net:host(H.CLIENT, cfg)
    local peer = net:peer(H.PEER)
    local tr = stack:trace()
    local closed
    local conn = stack:connect(H.PEER, 80, { on_close = function(_, err) closed = err or "ok" end })
    peer:expect("S")
    return net, stack, peer, conn, tr, function() return closed end
  end

  it("refuse a connection in SYN-SENT on port unreachable (a hard error)", function()
    local net, stack, peer, conn, tr, closed = connecting()
    peer:send_raw(icmp(H.PEER, H.CLIENT, 3, 3, 0, tr:raw(1):sub(1, 28)))
    net:run(0.1)
    assert.equal("ECONNREFUSED", closed())
    assert.equal(1, stack:stats().icmp_errors)
  end)

  it("ignore an error that quotes a sequence number not in flight", function()
    local net, stack, peer, conn, tr, closed = connecting()
    local quoted = tr:raw(1):sub(1, 24) .. string.pack(">I4", conn:info().iss + 1000)
    peer:send_raw(icmp(H.PEER, H.CLIENT, 3, 3, 0, quoted))
    net:run(0.1)
    assert.is_nil(closed())
    assert.equal("SYN-SENT", conn:info().state)
    assert.equal(1, stack:stats().icmp_ignored)
  end)

  it("keep host unreachable as a soft error, told when the connection times out", function()
    local net, stack, peer, conn, tr, closed = connecting{ syn_retries = 2 }
    peer:send_raw(icmp(H.PEER, H.CLIENT, 3, 1, 0, tr:raw(1):sub(1, 28)))
    net:run(0.1)
    assert.equal("SYN-SENT", conn:info().state) -- soft: the SYN goes on
    net:run(10)
    assert.equal("EHOSTUNREACH", closed())
  end)

  it("lower the MSS on fragmentation needed, and send the data again smaller (RFC 1191)", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ timestamps = false })
    conn:write(string.rep("m", 3000))
    local first = peer:expect(".")
    assert.equal(1460, first.len)
    local quoted = synack.segment.build(first):sub(1, 28)
    peer:send_raw(icmp(H.PEER, H.SERVER, 3, 4, 1000, quoted)) -- next hop MTU 1000
    net:run(0.05)
    -- (the second 1460-octet segment was already on its way)
    local again, resent = H.drain(peer), nil
    for i, s in ipairs(again) do
      if s.seq == first.seq then resent = i end
      if resent then assert.is_true(s.len <= 960, "a segment above the new MSS") end
    end
    assert.truthy(resent, "the first segment was not sent again")
    assert.equal(960, again[resent].len)
    assert.equal(960, conn:info().mss)
  end)
end)
