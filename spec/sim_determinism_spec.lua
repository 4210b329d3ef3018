-- The simulator: virtual time, net:run's three forms, impairments, and
-- determinism (DESIGN.md principle 5: same seed, same trace, byte for byte).
local synack = require "synack"
local H = require "helper"

-- A busy scenario: three clients, echoes, 20 % loss each way.
local function scenario(seed)
  local net = synack.sim{ seed = seed, delay = 0.005, loss = 0.2 }
  local server = net:host("10.0.0.100")
  H.echo(server)
  local trace = net:trace()
  for i = 1, 3 do
    local c = net:host("10.0.0." .. i)
    local conn = c:connect("10.0.0.100", 80)
    local w = H.writer(conn)
    conn:on("connect", function() w.write(string.rep(tostring(i), 5000)) w.close() end)
  end
  net:run()
  local records = {}
  for i = 1, #trace do records[i] = ("%.6f %s"):format(trace[i].t, trace:raw(i)) end
  return records, net:now()
end

describe("simulator determinism", function()
  it("gives the same trace, byte for byte and time for time, for the same seed", function()
    local a, ta = scenario(42)
    local b, tb = scenario(42)
    assert.is_true(#a > 30)
    assert.same(a, b)
    assert.equal(ta, tb)
  end)

  it("gives a different trace for a different seed", function()
    local a = scenario(42)
    local b = scenario(43)
    assert.are_not.same(a, b)
  end)
end)

describe("net:run", function()
  it("with seconds advances virtual time by exactly that much", function()
    local net = H.net()
    net:run(1.5)
    assert.equal(1.5, net:now())
    assert.is_true(net:run(0.25))
    assert.equal(1.75, net:now())
  end)

  it("with a predicate stops as soon as it holds and returns true", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local conn = client:connect(H.SERVER, 80)
    assert.is_true(net:run(function() return conn:info().state == "ESTABLISHED" end, 5))
    assert.near(0.020, net:now(), 1e-9)
  end)

  it("with a predicate and max_seconds returns false when time runs out", function()
    local net = H.net()
    assert.is_false(net:run(function() return false end, 2))
    assert.equal(2, net:now())
  end)

  it("with nothing runs until no packet is in flight and no timer is left", function()
    local net, client, server = H.pair(nil, { msl = 2 })
    H.echo(server)
    local conn = client:connect(H.SERVER, 80, { on_connect = function(c) c:close() end })
    assert.is_true(net:run())
    assert.equal("CLOSED", conn:info().state)
    assert.near(0.040 + 4, net:now(), 1e-6) -- TIME-WAIT from 0.040, 2 x 2 s
  end)

  it("raises a callback's error, with a traceback, and keeps working after", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    client:connect(H.SERVER, 80, { on_connect = function() error("boom in a callback") end })
    local ok, err = pcall(net.run, net, 1)
    assert.is_false(ok)
    assert.matches("boom in a callback", err)
    assert.matches("stack traceback", err)
    local conn2 = client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.equal("ESTABLISHED", conn2:info().state)
  end)

  it("refuses to run from inside a callback", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    client:connect(H.SERVER, 80, { on_connect = function() net:run(1) end })
    local ok, err = pcall(net.run, net, 1)
    assert.is_false(ok)
    assert.matches("inside a callback", err)
  end)
end)

describe("impairments", function()
  it("delay: one-way per direction, settable per pair of hosts", function()
    local net, client, server = H.pair({ delay = 0.010 })
    net:impair(H.SERVER, H.CLIENT, { delay = 0.100 })
    local listener = server:listen(80)
    local trace = net:trace()
    client:connect(H.SERVER, 80)
    net:run(1)
    assert.same({ 0, 0.010, 0.110 }, { trace[1].t, trace[2].t, trace[3].t })
  end)

  it("loss: a seeded fraction of packets is dropped and marked in the net trace", function()
    local net = synack.sim{ seed = 7, loss = 0.25 }
    local a = net:peer("10.0.0.1")
    local b = net:peer("10.0.0.2")
    local trace = net:trace()
    for i = 1, 2000 do a:send{ to = "10.0.0.2", sport = 1, dport = 2, flags = "S", seq = i } end
    net:run()
    local dropped = 0
    for i = 1, #trace do if trace[i].dropped then dropped = dropped + 1 end end
    assert.equal(2000, #trace)
    assert.equal(2000 - dropped, b:pending())
    assert.is_true(dropped > 400 and dropped < 600, dropped)
  end)

  local function pair_of_peers(opts)
    local net = synack.sim(opts)
    local a, b = net:peer("10.0.0.1"), net:peer("10.0.0.2")
    return net, a, b, net:trace()
  end
  local function burst(a, n, size)
    for i = 1, n do
      a:send{ to = "10.0.0.2", sport = 1, dport = 2, flags = ".", seq = i, data = string.rep("z", size or 10) }
    end
  end
  local function arrivals(b)
    local got = {}
    while b:pending() > 0 do got[#got + 1] = b:receive() end
    return got
  end

  it("duplicate: a packet arrives twice, the second copy marked in the trace", function()
    local net, a, b, trace = pair_of_peers{ seed = 3, delay = 0.01, duplicate = 1 }
    burst(a, 5)
    net:run()
    assert.equal(10, b:pending())
    local dups = 0
    for i = 1, #trace do if trace[i].duplicate then dups = dups + 1 end end
    assert.equal(5, dups)
  end)

  it("reorder: some packets are overtaken by later ones", function()
    local net, a, b = pair_of_peers{ seed = 3, delay = 0.01, reorder = 0.3 }
    burst(a, 50)
    net:run()
    local got, inversions = arrivals(b), 0
    assert.equal(50, #got)
    for i = 2, #got do if got[i].seq < got[i - 1].seq then inversions = inversions + 1 end end
    assert.is_true(inversions > 3, inversions)
  end)

  it("corrupt: one bit flipped, which the checksums catch", function()
    local net = synack.sim{ seed = 5, delay = 0.01, corrupt = 1 }
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    for i = 1, 20 do
      peer:send{ to = H.SERVER, sport = i, dport = 80, flags = "S", seq = 1 }
    end
    net:run(1)
    local st = stack:stats()
    assert.equal(20, st.bad_checksum + st.malformed + st.not_tcp + st.not_for_us)
    assert.equal(0, stack:stats().segments_out) -- nothing answered
  end)

  it("jitter: each packet's delay is spread over [delay, delay + jitter]", function()
    local net, a, b = pair_of_peers{ seed = 9, delay = 0.01, jitter = 0.02 }
    burst(a, 100)
    net:run()
    local lo, hi = math.huge, 0
    for _, s in ipairs(arrivals(b)) do lo, hi = math.min(lo, s.t), math.max(hi, s.t) end
    assert.is_true(lo >= 0.01 and hi <= 0.03)
    assert.is_true(hi - lo > 0.015)
  end)

  it("rate: packets are serialized at the link's rate, and a full queue drops", function()
    -- 1 Mbit/s: a 1000-byte packet takes 8 ms on the wire
    local net, a, b, trace = pair_of_peers{ seed = 1, delay = 0.001, rate = 1000000, queue = 5000 }
    burst(a, 10, 1000 - 40)
    net:run()
    local got = arrivals(b)
    assert.equal(5, #got) -- what fits in 5000 bytes of queue
    for i = 2, #got do assert.near(0.008, got[i].t - got[i - 1].t, 1e-6) end
    local dropped = 0
    for i = 1, #trace do if trace[i].dropped then dropped = dropped + 1 end end
    assert.equal(5, dropped)
  end)

  it("refuses unknown impairments by name", function()
    assert.has_error(function() synack.sim{ lossy = 0.1 } end, "unknown option 'lossy'")
    assert.has_error(function() synack.sim{ reorder = 2 } end)
  end)
end)

describe("scripted peers", function()
  it("receive() waits at most max_seconds and returns nil when nothing comes", function()
    local net = H.net()
    local p = net:peer(H.PEER)
    assert.is_nil(p:receive(3))
    assert.equal(3, net:now())
  end)

  it("send_raw() puts any bytes at all on the wire", function()
    local net = H.net()
    local a, b = net:peer("10.0.0.1"), net:peer("10.0.0.2")
    local bytes = synack.segment.build{ from = "10.0.0.1", to = "10.0.0.2", sport = 9, dport = 9,
                                        flags = "S", seq = 1 }
    a:send_raw(bytes)
    local s = b:receive(1)
    assert.equal("S", s.flags)
    assert.equal(0.010, s.t)
  end)
end)
