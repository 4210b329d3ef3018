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

-- The options as tcpdump lists them, from the packet's bytes: in their
-- order on the wire, NOPs and all.
local function raw_options_text(pkt)
  local ihl = ((pkt:byte(1) or 0) & 15) * 4
  local doff = ((pkt:byte(ihl + 13) or 0) >> 4) * 4
  local o = pkt:sub(ihl + 21, ihl + doff)
  local parts, i = {}, 1
  while i <= #o do
    local kind = o:byte(i)
    if kind == 0 then parts[#parts + 1] = "eol" break end
    if kind == 1 then
      parts[#parts + 1] = "nop"
      i = i + 1
    else
      local len = o:byte(i + 1)
      if not len or len < 2 or i + len - 1 > #o then parts[#parts + 1] = "[bad opt]" break end
      local v = o:sub(i + 2, i + len - 1)
      if kind == 2 and len == 4 then
        parts[#parts + 1] = "mss " .. string.unpack(">I2", v)
      elseif kind == 3 and len == 3 then
        parts[#parts + 1] = "wscale " .. v:byte(1)
      elseif kind == 4 and len == 2 then
        parts[#parts + 1] = "sackOK"
      elseif kind == 5 and (len - 2) % 8 == 0 and len > 2 then
        local blocks = {}
        for b = 1, #v, 8 do
          blocks[#blocks + 1] = ("{%d:%d}"):format(string.unpack(">I4I4", v, b))
        end
        parts[#parts + 1] = ("sack %d %s"):format(#blocks, table.concat(blocks))
      elseif kind == 8 and len == 10 then
        parts[#parts + 1] = ("TS val %d ecr %d"):format(string.unpack(">I4I4", v))
      else
        parts[#parts + 1] = ("unknown-%d"):format(kind)
      end
      i = i + len
    end
  end
  return table.concat(parts, ",")
end

--- One segment as tcpdump prints it with -n. `isn` maps flows to the ISN
-- each side announced in its SYN, so sequence numbers print relative to it
-- (the SYN itself is seq 0), as the API promises; absolute without a SYN.
function M.line(s, isn, absolute, raw)
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
  local opts = raw and raw_options_text(raw) or options_text(s.options)
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
    lines[i] = M.line(s, isn, opts and opts.absolute, tr:raw(i))
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
