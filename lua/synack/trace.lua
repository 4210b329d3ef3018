--- Traces as text: tcpdump -n style lines and flag lists.
-- A trace object (net:trace(), stack:trace()) is a C userdata; this file
-- adds the methods that are string work.
local M = {}

local function flow_key(s) return s.from .. ":" .. s.sport .. ">" .. s.to .. ":" .. s.dport end
local function back_key(s) return s.to .. ":" .. s.dport .. ">" .. s.from .. ":" .. s.sport end

-- Options in tcpdump's words, in the order synack writes them.
local function options_text(o)
  local parts = {}
  if o.mss then parts[#parts + 1] = "mss " .. o.mss end
  if o.sackok then parts[#parts + 1] = "sackOK" end
  if o.ts then parts[#parts + 1] = ("TS val %d ecr %d"):format(o.ts[1], o.ts[2]) end
  if o.wscale then parts[#parts + 1] = "wscale " .. o.wscale end
  if o.sack then
    local blocks = {}
    for i, b in ipairs(o.sack) do blocks[i] = ("{%d:%d}"):format(b[1], b[2]) end
    parts[#parts + 1] = "sack " .. #o.sack .. " " .. table.concat(blocks)
  end
  if o.malformed then parts[#parts + 1] = "[bad opt]" end
  return table.concat(parts, ",")
end

--- One segment as tcpdump prints it with -n. `isn` maps flows to the ISN
-- each side announced in its SYN, so sequence numbers print relative to it
-- (the SYN itself is seq 0), as the API promises; absolute without a SYN.
function M.line(s, isn, absolute)
  if s.malformed then
    return ("%.6f IP [malformed packet, %d bytes]%s"):format(s.t or 0, #(s.raw or ""),
      s.drop and (" (dropped: %s)"):format(s.drop) or "")
  end
  local key, back = flow_key(s), back_key(s)
  local base, peer_base = 0, 0
  if not absolute then
    base, peer_base = isn[key] or 0, isn[back] or 0
  end
  local out = {}
  out[#out + 1] = ("%.6f %sIP %s.%d > %s.%d: Flags [%s]"):format(
    s.t or 0, s.dir and (s.dir == "in" and "In  " or "Out ") or "",
    s.from, s.sport, s.to, s.dport, s.flags)
  local ctl = s.flags:find("[SFR]")
  if s.len > 0 or ctl then
    local seq = (s.seq - base) % 2^32
    if s.len > 0 then
      out[#out + 1] = (", seq %d:%d"):format(seq, (seq + s.len) % 2^32)
    else
      out[#out + 1] = (", seq %d"):format(seq)
    end
  end
  if s.flags:find(".", 1, true) then
    out[#out + 1] = (", ack %d"):format((s.ack - peer_base) % 2^32)
  end
  out[#out + 1] = (", win %d"):format(s.win)
  if s.flags:find("U", 1, true) then out[#out + 1] = (", urg %d"):format(s.urg) end
  local opts = options_text(s.options)
  if opts ~= "" then out[#out + 1] = (", options [%s]"):format(opts) end
  out[#out + 1] = (", length %d"):format(s.len)
  if s.bad_checksum then out[#out + 1] = " [bad tcp cksum]" end
  if s.dropped then out[#out + 1] = " (dropped)" end
  if s.drop then out[#out + 1] = (" (dropped: %s)"):format(s.drop) end
  return table.concat(out)
end

--- Remembers the ISN of a flow from its SYN.
function M.learn(s, isn)
  if not s.malformed and s.flags:find("S", 1, true) then isn[flow_key(s)] = s.seq end
end

--- The lines of a trace; opts.absolute keeps sequence numbers absolute
-- (tcpdump's -S).
local function format(tr, opts)
  local isn, lines = {}, {}
  for i = 1, #tr do
    local s = tr[i]
    M.learn(s, isn)
    lines[i] = M.line(s, isn, opts and opts.absolute)
  end
  return table.concat(lines, "\n")
end

local function flags(tr)
  local list = {}
  for i = 1, #tr do list[i] = tr[i].flags end
  return list
end

function M.install(mt)
  mt.methods.flags = flags
  mt.methods.format = format
  mt.__tostring = function(tr) return format(tr) end
end

return M
