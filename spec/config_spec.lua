-- Every knob is a configuration key (docs/reference.md), checked: a wrong
-- type or an out-of-range value raises an error that names the key.
local synack = require "synack"
local H = require "helper"

local KEYS = {
  -- key, a good value, a value of the wrong type, a value out of range
  { "msl", 1, "x", -1 },
  { "fin_timeout", 10, {}, 1e9 },
  { "rto_initial", 2, true, 0 },
  { "rto_min", 0.1, "x", -5 },
  { "rto_max", 60, "x", 5000 },
  { "delack", 0.01, "x", -1 },
  { "challenge_ack_interval", 1, "x", -1 },
  { "sndbuf", 10000, "x", 0 },
  { "rcvbuf", 10000, 1.5, 0 },
  { "mss", 1000, "x", 10 },
  { "syn_retries", 3, "x", 256 },
  { "synack_retries", 3, "x", -1 },
  { "retries", 3, 2.5, 300 },
  { "max_ooo_holes", 8, "x", 0 },
  { "nodelay", true, 1, nil },
  { "timestamps", false, "no", nil },
  { "sack", false, 0, nil },
  { "wscale", 7, "x", 15 },
  { "keepalive", { idle = 60, interval = 5, count = 3 }, "x", { idle = -1 } },
  { "max_syn_backlog", 16, "x", 0 },
  { "backlog", 16, "x", 0 },
  { "isn_secret", "s3cret", 42, "" },
  { "rfc1337", false, "yes", nil },
  { "max_time_wait", 1000, "x", -1 },
  { "port_range", { 2000, 3000 }, "x", { 3000, 2000 } },
}

describe("stack configuration", function()
  for _, k in ipairs(KEYS) do
    local key, good, badtype, range = k[1], k[2], k[3], k[4]
    it(("checks '%s'"):format(key), function()
      local net = H.net()
      assert.truthy(net:host("10.0.0.1", { [key] = good }))
      local ok, err = pcall(net.host, net, "10.0.0.2", { [key] = badtype })
      assert.is_false(ok)
      assert.matches("'" .. key .. "'", err)
      if range ~= nil then
        ok, err = pcall(net.host, net, "10.0.0.3", { [key] = range })
        assert.is_false(ok)
        assert.matches("'" .. key .. "'", err)
      end
    end)
  end

  it("lets connect options override the stack's per connection", function()
    local net = H.net()
    local stack = net:host(H.CLIENT, { syn_retries = 6 })
    local silent = net:peer(H.PEER)
    local why, at
    stack:connect(H.PEER, 80, { syn_retries = 1, rto_initial = 0.5,
      on_close = function(_, e) why, at = e, net:now() end })
    net:run()
    assert.equal("ETIMEDOUT", why)
    assert.equal(1.5, at) -- 0.5, then 1: two tries, not seven
    assert.truthy(silent)
  end)

  it("lets listen options override the stack's for accepted connections", function()
    local net, stack, peer, conn = H.accepted({ delack = 0.5 })
    assert.truthy(conn)
    local net2 = H.net()
    local s2 = net2:host(H.SERVER, { delack = 0.5 })
    local p2 = net2:peer(H.PEER)
    local listener = s2:listen(80, { delack = 0.05 })
    local isn, iss = H.peer_connect(net2, p2, H.SERVER, 80)
    local t0 = net2:now()
    p2:send{ to = H.SERVER, sport = 40000, dport = 80, flags = "P.", seq = isn + 1, ack = iss + 1, data = "x" }
    local a = p2:expect(".")
    assert.near(0.010 + 0.050 + 0.010, a.t - t0, 1e-6)
  end)

  it("takes syncookies as \"auto\", \"always\" or \"never\", for a stack or a listener", function()
    local net = H.net()
    for _, mode in ipairs { "auto", "always", "never" } do
      local s = net:host("10.0.1." .. #mode, { syncookies = mode })
      assert.truthy(s:listen(80, { syncookies = mode, max_syn_backlog = 4 }))
    end
    local ok, err = pcall(net.host, net, "10.0.0.5", { syncookies = "sometimes" })
    assert.is_false(ok)
    assert.matches("'syncookies'.*\"auto\", \"always\" or \"never\"", err)
    ok = pcall(net.host, net, "10.0.0.6", { syncookies = true })
    assert.is_false(ok)
  end)

  it("clamps rto_max and rto_min as configured (RFC 6298 (2.4), (2.5))", function()
    local net = H.net()
    local stack = net:host(H.CLIENT, { rto_max = 2, syn_retries = 4 })
    local silent = net:peer(H.PEER)
    local trace = net:trace()
    stack:connect(H.PEER, 80)
    net:run()
    local t = {}
    for i = 1, #trace do t[i] = trace[i].t end
    assert.same({ 0, 1, 3, 5, 7 }, t) -- 1 s, then capped at 2 s
    assert.truthy(silent)
  end)

  it("never retransmits sooner than rto_min", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rto_min = 0.75 })
    conn:write("x")
    local a = peer:expect("P.")
    local b = peer:expect("P.")
    assert.near(0.75, b.t - a.t, 1e-6)
  end)
end)
