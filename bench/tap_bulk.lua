-- bench/tap_bulk.lua ADDR PORT SECONDS MTU: one synack connection over a
-- TAP device sending as fast as it can to a kernel receiver at ADDR:PORT
-- (bench/sink.py recv); the receiver measures.
local synack = require "synack"
local addr, port, secs, mtu = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
local stack = assert(synack.tap{ name = "synbench0", addr = "192.0.2.2/24",
  peer_addr = "192.0.2.1/24", mtu = mtu, sndbuf = 4 << 20, rcvbuf = 1 << 20 })
local chunk = string.rep("x", 1 << 16)
local conn
local function fill(c)
  repeat local n = c:write(chunk) until not n or n < #chunk
end
conn = stack:connect(addr, port, { on_connect = fill, on_drain = fill })
synack.run(secs + 2)
local st = stack:stats()
print(("segments_out %d retransmits %d tx_drops %d"):format(st.segments_out, st.retransmits, st.tx_drops))
conn:abort()
stack:close()
