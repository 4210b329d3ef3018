-- Two synack stacks against each other over a hostile network: across
-- seeds, loss, reordering, duplication and corruption, the bytes arrive
-- intact and in order (compared by digest), the transfer ends, and memory
-- does not grow with the size of the transfer.
local synack = require "synack"
local H = require "helper"

-- A pseudo-random payload piece, different for every seed and offset.
local function piece(seed, index, size)
  local t, x = {}, (seed * 2654435761 + index * 40503) % 4294967296
  for i = 1, size do
    x = (1103515245 * x + 12345) % 2147483648
    t[i] = string.char(x >> 16 & 255)
  end
  return table.concat(t)
end

-- Sends `size` octets from client to server; returns the digests of what
-- was sent and received, whether both ends closed cleanly, the stats, and
-- the most memory either stack held.
local function transfer(seed, size, impair)
  local opts = { seed = seed, delay = 0.005 }
  for k, v in pairs(impair) do opts[k] = v end
  local net = synack.sim(opts)
  local client, server = net:host(H.CLIENT), net:host(H.SERVER)
  local got, got_digest, done = 0, nil, false
  server:listen(80, { on_accept = function(c)
    c:on("data", function(_, d) got, got_digest = got + #d, synack.digest(d, got_digest) end)
    c:on("end", function(conn) conn:close() end)
  end })
  local block = piece(seed, 0, 64 * 1024)
  local sent, sent_digest = 0, nil
  local conn = client:connect(H.SERVER, 80, { on_close = function(_, e) done = e or true end })
  local function pump(c)
    while sent < size do
      local want = math.min(#block, size - sent)
      local n = assert(c:write(want == #block and block or block:sub(1, want)))
      if n == 0 then return end
      sent_digest = synack.digest(block:sub(1, n), sent_digest)
      sent = sent + n
      if n < want then return end
    end
    c:close()
  end
  conn:on("connect", pump)
  conn:on("drain", pump)
  local peak, events = 0, 0
  assert.is_true(net:run(function()
    events = events + 1
    if events % 256 == 0 then
      peak = math.max(peak, client:stats().memory, server:stats().memory)
    end
    return done and got >= size
  end, 1e6), "the transfer did not finish") -- virtual seconds: cheap
  return sent_digest, got_digest, done, client:stats(), server:stats(), peak, got
end

local MIB = 1024 * 1024
local HOSTILE = {
  { loss = 0.05, reorder = 0.2, duplicate = 0.05, corrupt = 0.01 },
  { loss = 0.1, reorder = 0.2, duplicate = 0.05, corrupt = 0.03 },
  { loss = 0.2, reorder = 0.2, duplicate = 0.05, corrupt = 0.05 },
}

describe("two synack stacks over a hostile network", function()
  for seed = 1, 10 do
    local imp = HOSTILE[seed % #HOSTILE + 1]
    local name = ("loss %d %%, reorder 20 %%, duplicate 5 %%, corrupt %d %%"):format(
      imp.loss * 100, imp.corrupt * 100)
    it(("move 1 MiB intact, %s (seed %d)"):format(name, seed), function()
      local sd, gd, done, cs, ss, peak, got = transfer(seed, MIB, imp)
      assert.equal(MIB, got)
      assert.equal(sd, gd)
      assert.equal(true, done)
      -- corruption happened, and the checksums caught it
      assert.is_true(cs.bad_checksum + ss.bad_checksum + cs.malformed + ss.malformed > 0)
    end)
  end

  for seed = 1, 10 do
    local imp = HOSTILE[seed % #HOSTILE + 1]
    it(("move 16 MiB intact with memory as flat as for 1 MiB (seed %d)"):format(seed), function()
      local _, _, _, _, _, peak_small = transfer(seed, MIB, imp)
      local sd, gd, done, cs, ss, peak, got = transfer(seed, 16 * MIB, imp)
      assert.equal(16 * MIB, got)
      assert.equal(sd, gd)
      assert.equal(true, done)
      assert.is_true(peak < 2 * MIB, ("%d bytes held at most"):format(peak))
      assert.is_true(peak <= peak_small * 1.25 + 65536,
                     ("%d bytes for 16 MiB vs %d for 1 MiB"):format(peak, peak_small))
    end)
  end

  it("echo 64 KiB both ways over 30 seeds and loss rates", function()
    for _, loss in ipairs { 0.05, 0.1, 0.2 } do
      for seed = 1, 10 do
        local net = synack.sim{ seed = seed, delay = 0.005, loss = loss }
        local client, server = net:host(H.CLIENT), net:host(H.SERVER)
        H.echo(server)
        local data, got, closed = piece(seed, 1, 65536), {}, false
        local conn = client:connect(H.SERVER, 80, {
          on_data = function(_, d) got[#got + 1] = d end,
          on_end = function(c) c:close() end,
          on_close = function(_, err) closed = err or true end,
        })
        local w = H.writer(conn)
        conn:on("connect", function() w.write(data) w.shutdown() end)
        net:run(function() return closed end, 600)
        assert.is_true(data == table.concat(got), ("seed %d, loss %.2f"):format(seed, loss))
        assert.equal(true, closed)
      end
    end
  end)
end)
