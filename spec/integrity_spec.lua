-- Two synack stacks against each other, across seeds and loss rates: the
-- bytes arrive intact and in order, both ways, and the connection closes.
local synack = require "synack"
local H = require "helper"

-- A pseudo-random payload, different for every seed.
local function payload(seed, n)
  local t, x = {}, seed * 2654435761 % 4294967296
  for i = 1, n do
    x = (1103515245 * x + 12345) % 2147483648
    t[i] = string.char(x % 251)
  end
  return table.concat(t)
end

local function transfer(seed, loss, size)
  local net = synack.sim{ seed = seed, delay = 0.005, loss = loss }
  local client, server = net:host(H.CLIENT), net:host(H.SERVER)
  H.echo(server)
  local data = payload(seed, size)
  local got, closed = {}, false
  local conn = client:connect(H.SERVER, 80, {
    on_data = function(_, d) got[#got + 1] = d end,
    on_end = function(c) c:close() end,
    on_close = function(_, err) closed = err or true end,
  })
  local w = H.writer(conn)
  conn:on("connect", function() w.write(data) end)
  net:run(function() return #table.concat(got) >= size end, 600)
  conn:shutdown()
  net:run(function() return closed end, 600)
  return data, table.concat(got), closed, client:stats(), server:stats()
end

describe("two synack stacks over a lossy network", function()
  for _, loss in ipairs { 0.05, 0.1, 0.2 } do
    for seed = 1, 10 do
      it(("echo 64 KiB intact with %d %% loss (seed %d)"):format(loss * 100, seed), function()
        local sent, got, closed, cs, ss = transfer(seed, loss, 65536)
        assert.equal(#sent, #got)
        assert.is_true(sent == got, "the bytes differ")
        assert.equal(true, closed)
        assert.is_true(cs.retransmits + ss.retransmits > 0) -- losses were repaired
      end)
    end
  end

  it("moves 1 MiB intact with 10 % loss", function()
    local sent, got, closed = transfer(99, 0.1, 1 << 20)
    assert.is_true(sent == got)
    assert.is_true(closed == true)
  end)
end)
