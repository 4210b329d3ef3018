-- Writes the seed corpus of the fuzz targets (run from the checkout with
-- `make fuzz-seeds`):
--   fuzz/corpus/wire/   packets from real simulated exchanges: handshakes
--                       with every option, data under loss with SACK,
--                       closes, RSTs, a SYN-cookie handshake;
--   fuzz/corpus/stack/  programs for fuzz_stack.c that follow the protocol:
--                       data both ways, out of order, zero window, closes,
--                       cookies, an active open.
local synack = require "synack"

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

-- ---- wire: real packets --------------------------------------------------

local n = 0
local function keep(trace, name, max)
  for i = 1, math.min(#trace, max) do
    n = n + 1
    write(("fuzz/corpus/wire/%s-%03d"):format(name, i), trace:raw(i))
  end
end

do -- a transfer under loss, with SACK and timestamps, and a close
  local net = synack.sim{ seed = 3, delay = 0.005, loss = 0.05 }
  local a, b = net:host("10.0.0.1"), net:host("10.0.0.2")
  local tr = net:trace()
  local l = b:listen(80, { on_accept = function(c)
    c:on("data", function() c:read() end)
    c:on("end", function() c:close() end)
  end })
  local c = a:connect("10.0.0.2", 80)
  c:on("connect", function() c:write(string.rep("x", 20000)); c:close() end)
  net:run(30)
  keep(tr, "transfer", 40)
  l:close()
end

do -- a SYN-cookie handshake, a RST to a closed port, odd options
  local net = synack.sim{ seed = 4, delay = 0.005 }
  local b = net:host("10.0.0.2", { syncookies = "always" })
  local p = net:peer("10.0.0.9")
  local tr = net:trace()
  local l = b:listen(80)
  p:send{ to = "10.0.0.2", sport = 5, dport = 80, flags = "S", seq = 1,
          options = { mss = 1400, wscale = 7, sackok = true, ts = { 9, 0 } } }
  local sa = p:expect("S.")
  p:send{ to = "10.0.0.2", sport = 5, dport = 80, flags = ".", seq = 2, ack = sa.seq + 1,
          options = { ts = { 10, sa.options.ts[1] } } }
  p:send{ to = "10.0.0.2", sport = 6, dport = 81, flags = "S", seq = 1 }
  p:send{ to = "10.0.0.2", sport = 7, dport = 80, flags = "PU.", seq = 1, ack = 1, urg = 0xffff,
          data = "u", raw_options = "\1\1\5\18\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4" }
  net:run(1)
  keep(tr, "cookie", 20)
  l:close()
end

-- ---- stack: programs -------------------------------------------------------

local pack = string.pack
local function seg(op, flags, dseq, dack, win, len8)
  return pack(">BBi2i2I2B", op, flags, dseq, dack, win, len8) ..
         (op == 1 and "\0" or "") -- no raw options
end
local CLOCK = function(ms) return pack(">BI2B", 0, ms, 0) end
local READ, WRITE = pack("B", 5), function(nb) return pack(">BI2", 4, nb) end
local CLOSE = function(how) return pack("BB", 6, how) end
local ACK, DATA, FIN, RST = 0x10, 0x18, 0x11, 0x04

local programs = {
  data_both_ways = pack(">BI4", 0, 1000) ..
    seg(2, DATA, 0, 0, 65535, 20) .. READ .. WRITE(3000) .. CLOCK(50) ..
    seg(2, ACK, 0, 0, 65535, 0) .. seg(2, DATA, 0, 0, 65535, 10) .. READ ..
    CLOSE(1) .. CLOCK(50) .. seg(2, FIN, 0, 0, 65535, 0) .. CLOCK(65000),
  out_of_order = pack(">BI4", 0, 77) ..
    seg(2, DATA, 800, 0, 65535, 10) .. seg(2, DATA, 1600, 0, 65535, 10) ..
    seg(2, DATA, 0, 0, 65535, 100) .. READ .. CLOCK(300),
  no_timestamps = pack(">BI4", 0x20, 0xffffff00) ..
    seg(1, DATA, 0, 0, 65535, 50) .. READ .. WRITE(20000) .. CLOCK(200) ..
    seg(1, ACK, 0, 0, 0, 0) .. CLOCK(3000) .. seg(1, ACK, 0, 0, 65535, 0) .. CLOCK(500),
  peer_closes_first = pack(">BI4", 1, 5) ..
    seg(2, DATA | 1, 0, 0, 65535, 4) .. READ .. CLOSE(1) .. CLOCK(100) ..
    seg(2, ACK, 0, 0, 65535, 0) .. CLOCK(60000),
  reset = pack(">BI4", 2, 9) .. seg(2, RST, 0, 0, 0, 0) .. seg(2, RST, 5, 0, 0, 0) .. READ,
  abort_and_release = pack(">BI4", 0, 11) .. WRITE(100) .. CLOSE(2) .. CLOSE(3) .. CLOCK(1000),
  cookies = pack(">BI4", 8, 123) ..
    pack(">BI2I4BB", 7, 1000, 555, 1 | 2 | 4, 3) .. pack(">BI2I4B", 7, 1001, 556, 2) ..
    CLOCK(1000),
  syn_queue_full = pack(">BI4", 0, 1) ..
    pack(">BI2I4B", 7, 2000, 1, 0) .. pack(">BI2I4B", 7, 2001, 1, 0) ..
    pack(">BI2I4B", 7, 2002, 1, 0) .. pack(">BI2I4B", 7, 2003, 1, 0) ..
    pack(">BI2I4B", 7, 2004, 1, 0) .. CLOCK(3000),
  sack_recovery = pack(">BI4", 0, 3) .. WRITE(20000) .. CLOCK(10) ..
    pack(">BI2BI2I2", 10, 6000, 0, 536, 536) .. pack(">BI2BI2I2", 10, 6000, 0, 536, 1072) ..
    pack(">BI2BI2I2", 10, 6000, 0, 536, 1608) .. pack(">BI2BI2I2I2I2", 10, 6000, 1, 536, 1608, 536, 536) ..
    CLOCK(5) .. seg(2, ACK, 0, 0, 65535, 0) .. CLOCK(300),
  active_open = pack(">BI4", 0, 1) .. pack("BB", 8, 80) ..
    pack(">BBI4bI2", 9, 0x12, 5000, 0, 65535) .. pack(">BBI4bI2", 9, 0x10, 5001, 0, 65535) ..
    CLOCK(1000),
}
local count = 0
for name, prog in pairs(programs) do
  write("fuzz/corpus/stack/" .. name, prog)
  count = count + 1
end
print(("%d wire seeds, %d stack seeds"):format(n, count))
