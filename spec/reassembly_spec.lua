-- Reassembly in place: out-of-order data is written where it belongs in
-- the receive ring, an interval set remembers the ranges, and both are
-- bounded (DESIGN.md principles 3 and 4).
local H = require "helper"
local send = H.send

describe("out-of-order data", function()
  it("becomes readable as soon as the gap before it fills", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    send(peer, { flags = "P.", seq = isn + 4, ack = iss + 1, data = "def" })
    send(peer, { flags = "P.", seq = isn + 10, ack = iss + 1, data = "jkl" })
    net:run(0.05)
    assert.equal("", conn:read())
    assert.equal(6, conn:info().ooo_bytes)
    send(peer, { flags = "P.", seq = isn + 1, ack = iss + 1, data = "abc" })
    net:run(0.05)
    assert.equal("abcdef", conn:read()) -- up to the next hole
    assert.equal(3, conn:info().ooo_bytes)
    send(peer, { flags = "P.", seq = isn + 7, ack = iss + 1, data = "ghi" })
    net:run(0.05)
    assert.equal("ghijkl", conn:read())
    assert.equal(0, conn:info().ooo_bytes)
    assert.equal(2, stack:stats().ooo_segments)
  end)

  it("holds at most max_ooo_holes ranges; a segment that would make one more is dropped and counted", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ max_ooo_holes = 2 })
    send(peer, { flags = "P.", seq = isn + 11, ack = iss + 1, data = "A" })
    send(peer, { flags = "P.", seq = isn + 21, ack = iss + 1, data = "B" })
    send(peer, { flags = "P.", seq = isn + 31, ack = iss + 1, data = "C" }) -- a third range
    send(peer, { flags = "P.", seq = isn + 12, ack = iss + 1, data = "a" }) -- joins the first
    net:run(0.05)
    local st = stack:stats()
    assert.equal(1, st.ooo_dropped)
    assert.equal(3, conn:info().ooo_bytes) -- "Aa" and "B"
  end)

  it("never holds more than the window it advertised", function()
    local net, stack, peer, conn, isn, iss = H.accepted({ rcvbuf = 4000, timestamps = false })
    send(peer, { flags = "P.", seq = isn + 3001, ack = iss + 1, data = string.rep("x", 2000) })
    net:run(0.05)
    assert.equal(1000, conn:info().ooo_bytes) -- the part inside the window
    send(peer, { flags = "P.", seq = isn + 5001, ack = iss + 1, data = "far" })
    net:run(0.05)
    assert.equal(1000, conn:info().ooo_bytes)
    assert.is_true(stack:stats().out_of_window >= 1)
  end)

  it("keeps memory flat under a storm of tiny segments in distinct places", function()
    local net, stack, peer, conn, isn, iss = H.accepted()
    local before = stack:stats().memory
    for i = 1, 2000 do
      send(peer, { flags = "P.", seq = isn + 1 + 3 * i, ack = iss + 1, data = "x" })
    end
    net:run(0.5)
    local st = stack:stats()
    assert.equal(32, conn:info().ooo_bytes) -- 32 ranges of one octet: the cap
    assert.equal(2000 - 32, st.ooo_dropped)
    -- the ring holds the window at most, the ranges 32 entries
    assert.is_true(st.memory - before <= 262144 + 32 * 8 + 4096)
  end)
end)
