-- require "synack.assert": assert.segments, assert.handshake, assert.state.
require "synack.assert"
local H = require "helper"

local function handshake_trace()
  local net, client, server = H.pair()
  local tr = net:trace()
  local l = server:listen(80)
  local c = client:connect(H.SERVER, 80)
  net:run(0.1)
  return tr, c, net, l
end

describe("synack.assert", function()
  it("segments: the exact list of flags", function()
    local tr = handshake_trace()
    assert.segments(tr, { "S", "S.", "." })
    assert.is_not.segments(tr, { "S", "S." })
    assert.is_not.segments(tr, { "S", "S.", "R" })
  end)

  it("segments: tables whose fields must match, options key by key", function()
    local tr = handshake_trace()
    assert.segments(tr, {
      { from = H.CLIENT, to = H.SERVER, dport = 80, flags = "S", options = { mss = 1460 } },
      { flags = "S.", ack = tr[1].seq + 1 },
      ".",
    })
    assert.is_not.segments(tr, { { flags = "S", options = { mss = 536 } }, "S.", "." })
  end)

  it("segments: takes a plain list of segment tables too", function()
    local tr = handshake_trace()
    assert.segments({ tr[1], tr[2] }, { "S", "S." })
  end)

  it("handshake: S, S. acking ISN+1, . acking the other ISN+1", function()
    local tr = handshake_trace()
    assert.handshake(tr)
    local forged = { tr[1], tr[2], tr[3] }
    forged[2] = setmetatable({ ack = tr[1].seq + 2 }, { __index = tr[2] })
    assert.is_not.handshake(forged)
  end)

  it("state: of a connection or an info table", function()
    local _, c = handshake_trace()
    assert.state(c, "ESTABLISHED")
    assert.state(c:info(), "ESTABLISHED")
    assert.is_not.state(c, "CLOSED")
  end)

  it("fails with expected and actual, the tcpdump lines and the ladder", function()
    local tr = handshake_trace()
    local ok, err = pcall(assert.segments, tr, { "S", "S.", "F" })
    assert.is_false(ok)
    err = tostring(err)
    assert.matches('expected: {"S", "S.", "F"}', err, 1, true)
    assert.matches('actual flags: {"S", "S.", "."}', err, 1, true)
    assert.matches("segment 3: flags is \".\", not \"F\"", err, 1, true)
    assert.matches("IP 10.0.0.1.%d+ > 10.0.0.2.80: Flags %[S%], seq 0", err)
    assert.matches("|%-+ S seq 0 win 65535 %-+>|", err)
    local ok2, err2 = pcall(assert.handshake, { tr[2], tr[1], tr[3] })
    assert.is_false(ok2)
    assert.matches("segment 1 is %[S%.%], not %[S%]", tostring(err2))
  end)
end)
