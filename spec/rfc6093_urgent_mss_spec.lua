-- RFC 6093 (urgent data, delivered inline), and the segment size limits of
-- RFC 9293 §3.7.1 and the path MTU of the simulated network.
local synack = require "synack"
local H = require "helper"

local send = H.send

describe("RFC 6093 urgent data", function()
  it("is delivered inline, in order with the rest", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = "PU.", seq = isn + 1, ack = iss + 1, urg = 3, data = "abcdef" })
    peer:expect(".", { ack = isn + 7 }, 1)
    assert.equal("abcdef", conn:read())
  end)

  it("never stalls on an urgent pointer of 0xFFFF or past the data", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = "PU.", seq = isn + 1, ack = iss + 1, urg = 0xffff, data = "one" })
    send(peer, { flags = "PU.", seq = isn + 4, ack = iss + 1, urg = 0, data = "two" })
    send(peer, { flags = "U.", seq = isn + 7, ack = iss + 1, urg = 9000 })
    send(peer, { flags = "P.", seq = isn + 7, ack = iss + 1, data = "three" })
    net:run(0.2)
    assert.equal("onetwothree", conn:read())
    assert.equal("ESTABLISHED", conn:info().state)
    peer:expect(".", { ack = isn + 12 }) -- everything, in one delayed ACK
    conn:write("still fine")
    peer:expect("P.", { data = "still fine" }, 1)
  end)
end)

describe("segment sizes", function()
  it("never exceed the path MTU of the simulated network", function()
    local net = synack.sim{ seed = 1, delay = 0.005, mtu = 1000 }
    local client, server = net:host(H.CLIENT), net:host(H.SERVER)
    local got = {}
    server:listen(80, { on_accept = function(c) c:on("data", function(_, d) got[#got + 1] = d end) end })
    local trace = net:trace()
    local conn = client:connect(H.SERVER, 80)
    local w = H.writer(conn)
    conn:on("connect", function() w.write(string.rep("m", 50000)) end)
    net:run(5)
    assert.equal(50000, #table.concat(got))
    for i = 1, #trace do
      assert.is_nil(trace[i].dropped)
      assert.is_true(#trace:raw(i) <= 1000)
    end
    assert.equal(960, trace[1].options.mss) -- MTU less the IPv4 and TCP headers
  end)

  it("are dropped by the network when larger than its MTU (DF is set)", function()
    local net = synack.sim{ seed = 1, mtu = 600 }
    local a, b = net:peer("10.0.0.1"), net:peer("10.0.0.2")
    local trace = net:trace()
    a:send{ to = "10.0.0.2", sport = 1, dport = 2, data = string.rep("x", 600) }
    a:send{ to = "10.0.0.2", sport = 1, dport = 2, data = string.rep("x", 500) }
    net:run()
    assert.is_true(trace[1].dropped)
    assert.is_nil(trace[2].dropped)
    assert.equal(1, b:pending())
  end)

  it("respect a smaller MSS the peer announces, with timestamps taken off", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local conn
    local listener = stack:listen(80, { on_accept = function(c) conn = c end })
    send(peer, { flags = "S", seq = 1, options = { mss = 500, ts = { 1, 0 } } })
    local sa = peer:expect("S.")
    send(peer, { flags = ".", seq = 2, ack = sa.seq + 1, options = { ts = { 2, sa.options.ts[1] } } })
    net:run(0.05)
    assert.equal(488, conn:info().mss) -- 500 less the 12 octets of TS
    conn:write(string.rep("q", 2000))
    local s = peer:receive(0.1)
    assert.equal(488, s.len)
    assert.is_true(#s.data + 20 + 32 <= 500 + 40)
  end)
end)
