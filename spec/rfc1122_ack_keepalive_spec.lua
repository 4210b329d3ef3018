-- RFC 1122 §4.2.3.2 (when to send an ACK) and §4.2.3.6 (keep-alives);
-- RFC 896 (Nagle) with nodelay.
local H = require "helper"
local MSS = 1460

local send = H.send

describe("RFC 1122 §4.2.3.2 delayed ACKs", function()
  it("acknowledges every second full-sized segment at once", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    local t0 = net:now()
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1, data = string.rep("x", MSS) })
    send(peer, { flags = ".", seq = isn + 1 + MSS, ack = iss + 1, data = string.rep("x", MSS) })
    local a = peer:expect(".", { ack = isn + 1 + 2 * MSS })
    assert.near(0.020, a.t - t0, 1e-6) -- no delay
  end)

  it("delays the ACK of a lone segment by `delack`", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ delack = 0.1 })
    local t0 = net:now()
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "one" })
    local a = peer:expect(".", { ack = isn + 4 })
    assert.near(0.010 + 0.100 + 0.010, a.t - t0, 1e-6)
  end)

  it("acknowledges out-of-order data at once (RFC 5681 §4.2), and the segment that fills the gap", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ delack = 0.2 })
    local t0 = net:now()
    send(peer, { flags = "P.", seq = isn + 11, ack = iss + 1, data = "later" })
    local dup = peer:expect(".", { ack = isn + 1 })
    assert.near(0.020, dup.t - t0, 1e-6)
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "0123456789" })
    local a = peer:expect(".", { ack = isn + 16 })
    assert.near(0.040, a.t - t0, 1e-6)
    assert.equal("0123456789later", conn:read())
  end)

  it("acknowledges a FIN at once", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ delack = 0.2 })
    local t0 = net:now()
    send(peer, { flags = "F.", seq = isn + 1, ack = iss + 1 })
    local a = peer:expect(".", { ack = isn + 2 })
    assert.near(0.020, a.t - t0, 1e-6)
  end)

  it("lets a reply written in the data callback carry the ACK", function()
    local net, client, server = H.pair()
    server:listen(80, { on_accept = function(c)
      c:on("data", function(conn, d) conn:write(d) end)
    end })
    local trace = net:trace()
    client:connect(H.SERVER, 80, { on_connect = function(c) c:write("ping") end })
    net:run(0.035)
    local from_server = {}
    for i = 1, #trace do
      if trace[i].from == H.SERVER then from_server[#from_server + 1] = trace[i].flags end
    end
    assert.same({ "S.", "P." }, from_server) -- no separate ACK
  end)
end)

describe("RFC 896 Nagle", function()
  it("holds a small segment while data is unacknowledged, and sends it with the ACK", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    conn:write("a")
    peer:expect("P.", { data = "a" })
    conn:write("b")
    conn:write("c")
    assert.is_nil(peer:receive(0.1)) -- "a" is not acknowledged yet
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 2 })
    peer:expect("P.", { data = "bc" })
  end)

  it("is off with nodelay = true", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ nodelay = true })
    conn:write("a")
    conn:write("b")
    peer:expect("P.", { data = "a" })
    peer:expect("P.", { data = "b" })
  end)

  it("can be turned off per connection", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local trace = client:trace()
    local conn = client:connect(H.SERVER, 80, { nodelay = true })
    net:run(0.1)
    conn:write("a")
    conn:write("b")
    net:run(0.001)
    local data = {}
    for i = 1, #trace do
      if trace[i].dir == "out" and trace[i].len > 0 then data[#data + 1] = trace[i].data end
    end
    assert.same({ "a", "b" }, data)
  end)
end)

describe("RFC 1122 §4.2.3.6 keep-alive", function()
  it("is off by default: an idle connection sends nothing", function()
    local net, stack, peer, conn = H.accepted()
    assert.is_nil(peer:receive(10000))
    assert.equal("ESTABLISHED", conn:info().state)
  end)

  it("probes after `idle` with <SEQ=SND.NXT-1>, every `interval`, and ends after `count` with ETIMEDOUT", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ keepalive = { idle = 10, interval = 2, count = 3 } })
    local why
    conn:on("close", function(_, e) why = e end)
    local t0 = net:now()
    local times = {}
    for i = 1, 3 do
      local p = peer:expect(".", { seq = iss, ack = isn + 1, len = 0 }, 20)
      times[i] = p.t - t0
    end
    assert.near(10.01, times[1], 0.05)
    assert.near(12.01, times[2], 0.05)
    assert.near(14.01, times[3], 0.05)
    peer:expect("R", {}, 5) -- the connection gives up, as Linux does
    assert.equal("ETIMEDOUT", why)
    assert.equal(3, stack:stats().keepalive_probes)
  end)

  it("keeps a connection whose peer answers the probes", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ keepalive = { idle = 10, interval = 2, count = 2 } })
    for _ = 1, 5 do
      peer:expect(".", { seq = iss }, 20)
      send(peer, { flags = ".", seq = isn + 1, ack = iss + 1 })
    end
    assert.equal("ESTABLISHED", conn:info().state)
  end)

  it("restarts the idle time with every segment from the peer", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ keepalive = { idle = 10, interval = 2, count = 2 } })
    net:run(8)
    send(peer, { flags = ".", seq = isn + 1, ack = iss + 1 })
    assert.is_nil(peer:receive(9)) -- 17 s after the start, 9 after the segment
    peer:expect(".", { seq = iss }, 2)
  end)
end)
