-- TIME-WAIT at scale: compact entries (at most 64 bytes each), RFC 1337
-- (no TIME-WAIT assassination), RFC 6191 (a new SYN may reopen the
-- 4-tuple), the max_time_wait cap, and ports a client cannot reuse.
local synack = require "synack"
local H = require "helper"
local send = H.send

-- n connections from client to server, each closed by the client first:
-- the client ends with n TIME-WAIT entries.
local function time_waits(n, ccfg, scfg)
  local net = synack.sim{ seed = 3, delay = 0.001 }
  local client = net:host(H.CLIENT, ccfg)
  local server = net:host(H.SERVER, scfg)
  H.echo(server)
  for _ = 1, n do
    local c = client:connect(H.SERVER, 80)
    c:on("connect", function(conn) conn:close() end)
  end
  net:run(1)
  collectgarbage()
  collectgarbage()
  net:run(0.1)
  return net, client, server
end

describe("compact TIME-WAIT entries", function()
  it("cost at most 64 bytes each, by the allocator's own accounting", function()
    local net = synack.sim{ seed = 3, delay = 0.001 }
    local client = net:host(H.CLIENT, { port_range = { 1024, 65535 } })
    local server = net:host(H.SERVER)
    H.echo(server)
    local base = client:stats().memory
    -- one connection after another, as a client does: each ends in
    -- TIME-WAIT on the client, and only its entry stays
    for i = 1, 3000 do
      local c = client:connect(H.SERVER, 80)
      c:shutdown() -- the FIN goes once it is established
      net:run(0.01)
      if i % 500 == 0 then collectgarbage() end
    end
    collectgarbage()
    collectgarbage()
    net:run(0.01)
    local st = client:stats()
    assert.equal(3000, st.time_wait)
    local per_entry = (st.memory - base) / st.time_wait
    assert.is_true(per_entry <= 64, ("%.1f bytes per entry"):format(per_entry))
  end)

  it("release the control block: nothing but the entry remains", function()
    local net, client = time_waits(10)
    assert.equal(10, client:stats().time_wait)
    for _, row in ipairs(client:connections()) do
      assert.equal("TIME-WAIT", row.state)
      assert.is_true(row.expires_in > 58 and row.expires_in <= 60)
    end
  end)

  it("expire after 2 MSL, in order, each in O(1)", function()
    local net, client = time_waits(50, { msl = 5 })
    assert.equal(50, client:stats().time_wait) -- from 0.003 s, for 10 s
    net:run(8.8)
    assert.equal(50, client:stats().time_wait)
    net:run(0.2)
    assert.equal(0, client:stats().time_wait)
    assert.equal(0, #client:connections())
  end)

  it("keep a small handle for an owner who still holds the connection", function()
    local net, client, server = H.pair(nil, { msl = 1 })
    H.echo(server)
    local states = {}
    local conn = client:connect(H.SERVER, 80, {
      on_connect = function(c) c:close() end,
      on_state = function(_, new) states[#states + 1] = new end,
    })
    net:run(0.1)
    assert.equal("TIME-WAIT", conn:info().state)
    assert.near(1.9, conn:info().expires_in, 0.1)
    net:run()
    assert.equal("CLOSED", conn:info().state)
    assert.equal("CLOSED", states[#states])
  end)
end)

describe("RFC 1337 TIME-WAIT assassination", function()
  local function tw_peer(cfg)
    local net = H.net()
    local stack = net:host(H.SERVER, cfg)
    local peer = net:peer(H.PEER)
    local conn
    local listener = stack:listen(80, { on_accept = function(c) conn = c end })
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80)
    conn:close()
    peer:expect("F.")
    send(peer, { flags = "F.", seq = isn + 1, ack = iss + 2 })
    peer:expect(".")
    conn = nil -- luacheck: ignore
    collectgarbage()
    return net, stack, peer, isn, iss, listener
  end

  it("ignores a RST in TIME-WAIT by default", function()
    local net, stack, peer, isn = tw_peer()
    send(peer, { flags = "R", seq = isn + 2 })
    net:run(0.1)
    assert.equal(1, stack:stats().time_wait)
  end)

  it("lets a RST end TIME-WAIT with rfc1337 = false (RFC 9293 alone)", function()
    local net, stack, peer, isn = tw_peer({ rfc1337 = false })
    send(peer, { flags = "R", seq = isn + 2 })
    net:run(0.1)
    assert.equal(0, stack:stats().time_wait)
  end)
end)

describe("RFC 6191 a new SYN for a TIME-WAIT 4-tuple", function()
  local function tw_peer(ts)
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local conn
    local listener = stack:listen(80, { on_accept = function(c) conn = c end })
    local opts = ts and { mss = 1460, ts = { 1000, 0 } } or { mss = 1460 }
    local isn, iss = H.peer_connect(net, peer, H.SERVER, 80, { options = opts })
    conn:close()
    local fin = peer:expect("F.")
    send(peer, { flags = "F.", seq = isn + 1, ack = iss + 2,
                 options = ts and { ts = { 1002, fin.options.ts[1] } } or nil })
    peer:expect(".")
    return net, stack, peer, isn, iss, listener
  end

  it("reopens it when the SYN's timestamp is newer than the last one seen", function()
    local net, stack, peer, isn = tw_peer(true)
    send(peer, { flags = "S", seq = isn - 1000, options = { mss = 1460, ts = { 1003, 0 } } })
    peer:expect("S.", { ack = isn - 999 })
    assert.equal(1, stack:stats().time_wait_reused)
    assert.equal(0, stack:stats().time_wait)
  end)

  it("treats a SYN with an older timestamp as an old duplicate", function()
    local net, stack, peer, isn, iss = tw_peer(true)
    send(peer, { flags = "S", seq = isn + 5000, options = { mss = 1460, ts = { 999, 0 } } })
    peer:expect(".", { ack = isn + 2 })
    assert.equal(1, stack:stats().time_wait)
    assert.equal(0, stack:stats().time_wait_reused)
  end)

  it("without timestamps, reopens it when the SYN's sequence number is beyond the last seen", function()
    local net, stack, peer, isn = tw_peer(false)
    send(peer, { flags = "S", seq = isn + 100000 })
    peer:expect("S.", { ack = isn + 100001 })
    assert.equal(1, stack:stats().time_wait_reused)
  end)

  it("without timestamps, answers a SYN at or below RCV.NXT with an ACK", function()
    local net, stack, peer, isn = tw_peer(false)
    send(peer, { flags = "S", seq = isn })
    peer:expect(".", { ack = isn + 2 })
    assert.equal(1, stack:stats().time_wait)
  end)
end)

describe("max_time_wait", function()
  it("skips TIME-WAIT past the cap, counting time_wait_overflow", function()
    local net, client = time_waits(20, { max_time_wait = 5 })
    local st = client:stats()
    assert.equal(5, st.time_wait)
    assert.equal(15, st.time_wait_overflow)
  end)
end)

describe("ephemeral ports and TIME-WAIT (RFC 6056)", function()
  it("runs a client out of ports while TIME-WAIT holds them, without timestamps", function()
    local net, client = time_waits(8, { port_range = { 5000, 5007 }, timestamps = false, msl = 5 })
    assert.equal(8, client:stats().time_wait)
    local c, err = client:connect(H.SERVER, 80)
    assert.is_nil(c)
    assert.equal("EADDRNOTAVAIL", err)
    assert.matches("no local port", synack.strerror(err))
    net:run(10) -- 2 MSL later the ports are free again
    assert.truthy(client:connect(H.SERVER, 80))
  end)

  it("reuses a TIME-WAIT port after a second when both connections use timestamps", function()
    local net = synack.sim{ seed = 3, delay = 0.001 }
    local client = net:host(H.CLIENT, { port_range = { 5000, 5007 } })
    local server = net:host(H.SERVER)
    H.echo(server)
    for _ = 1, 8 do client:connect(H.SERVER, 80, { on_connect = function(c) c:close() end }) end
    net:run(0.1)
    assert.equal(8, client:stats().time_wait)
    local c, err = client:connect(H.SERVER, 80)
    assert.equal("EADDRNOTAVAIL", err) -- not yet: less than a second old
    net:run(1)
    c = assert(client:connect(H.SERVER, 80))
    assert.equal(1, client:stats().time_wait_reused)
    net:run(0.1)
    assert.equal("ESTABLISHED", c:info().state)
  end)
end)
