-- RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
-- secretkey), M a 4-microsecond clock, F SipHash-2-4 keyed by the stack's
-- secret.
local H = require "helper"

-- The ISN of a SYN from a fresh stack at `H.CLIENT` to the scripted peer,
-- sent `at` seconds into the run, from `lport` to `rport`.
local function isn_of(cfg, opts)
  local net = H.net{ seed = opts.seed or 1 }
  local stack = net:host(H.CLIENT, cfg)
  local peer = net:peer(H.PEER)
  local isns = {}
  for _, at in ipairs(opts.at or { 0 }) do
    net:run(at - net:now())
    local c = stack:connect(H.PEER, opts.rport or 80, { local_port = opts.lport or 5555 })
    c:abort() -- SYN-SENT: no RST, no TIME-WAIT; the 4-tuple is free again
  end
  for i = 1, #(opts.at or { 0 }) do isns[i] = peer:expect("S").seq end
  return isns, net
end

describe("RFC 6528 initial sequence numbers", function()
  it("advance for one 4-tuple with a 4 µs clock (§3, M)", function()
    local isns = isn_of(nil, { at = { 1, 2, 3.5, 3.500004 } })
    -- exactly the clock's ticks between the SYNs: F is the same each time
    assert.equal(250000, (isns[2] - isns[1]) % 2^32)
    assert.equal(375000, (isns[3] - isns[2]) % 2^32)
    assert.equal(1, (isns[4] - isns[3]) % 2^32)
  end)

  it("are unrelated for different 4-tuples at the same time (§3, F)", function()
    local seen, high = {}, {}
    for rport = 1000, 1063 do
      local isn = isn_of(nil, { rport = rport, at = { 1 } })[1]
      assert.is_nil(seen[isn], "two 4-tuples share an ISN")
      seen[isn] = true
      high[isn >> 28] = true -- the top nibble is spread, not clustered
    end
    local nibbles = 0
    for _ in pairs(high) do nibbles = nibbles + 1 end
    assert.is_true(nibbles >= 10, "top nibbles of 64 ISNs: " .. nibbles)
  end)

  it("differ between secrets for the same 4-tuple and time", function()
    local a = isn_of({ isn_secret = "one" }, { at = { 1 } })[1]
    local b = isn_of({ isn_secret = "two" }, { at = { 1 } })[1]
    assert.are_not.equal(a, b)
  end)

  it("come from the sim's seed unless isn_secret is given", function()
    local s1 = isn_of(nil, { seed = 1, at = { 1 } })[1]
    local s2 = isn_of(nil, { seed = 2, at = { 1 } })[1]
    assert.are_not.equal(s1, s2)
    -- a given secret wins over the seed
    local g1 = isn_of({ isn_secret = "k" }, { seed = 1, at = { 1 } })[1]
    local g2 = isn_of({ isn_secret = "k" }, { seed = 2, at = { 1 } })[1]
    assert.equal(g1, g2)
  end)

  it("are reproduced by the same secret at the same time", function()
    local a = isn_of({ isn_secret = "same" }, { at = { 1, 7 } })
    local b = isn_of({ isn_secret = "same" }, { at = { 1, 7 } })
    assert.same(a, b)
  end)

  it("are the same for a listener's SYN-ACK: F of the 4-tuple, plus M", function()
    local net = H.net()
    local stack = net:host(H.SERVER, { isn_secret = "srv" })
    local peer = net:peer(H.PEER)
    local listener = stack:listen(80)
    local function synack_isn(sport)
      peer:send{ to = H.SERVER, sport = sport, dport = 80, flags = "S", seq = 1 }
      local s = peer:expect("S.")
      peer:send{ to = H.SERVER, sport = sport, dport = 80, flags = "R", seq = 2 }
      return s.seq, s.t
    end
    local i1, t1 = synack_isn(7000)
    net:run(1)
    local i2, t2 = synack_isn(7000)
    assert.equal(math.floor((t2 - t1) * 250000 + 0.5), (i2 - i1) % 2^32)
    local i3, t3 = synack_isn(7001) -- another 4-tuple: not i2 plus the clock
    assert.are_not.equal(math.floor((t3 - t2) * 250000 + 0.5), (i3 - i2) % 2^32)
    listener:close()
  end)
end)
