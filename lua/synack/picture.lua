--- Pictures of a trace: trace:ladder() (an ASCII sequence diagram) and
-- trace:svg() (the same as a standalone SVG).  One column per endpoint
-- (IPv4 address), in the order they first appear; one arrow per segment,
-- labelled as tcpdump would (flags, relative seq and ack, window,
-- length), with the time on the left.  Packets the network dropped end in
-- an X short of their destination; packets a stack refused say why.
local trace = require "synack.trace"

local M = {}

-- The rows of a picture: endpoints and, per segment, its columns, label
-- and marks.
local function layout(tr)
  local cols, order, isn, rows = {}, {}, {}, {}
  local flows = {}
  local function col(addr)
    if not cols[addr] then
      order[#order + 1] = addr
      cols[addr] = #order
    end
    return cols[addr]
  end
  for i = 1, #tr do
    local s = tr[i]
    if not s.malformed then
      flows[s.from .. ":" .. s.sport .. ">" .. s.to .. ":" .. s.dport] = true
      col(s.from)
      col(s.to)
    end
  end
  local nflows = 0
  for _ in pairs(flows) do nflows = nflows + 1 end
  for i = 1, #tr do
    local s = tr[i]
    if s.malformed then
      rows[#rows + 1] = { t = s.t or 0, text = ("[malformed packet, %d bytes]"):format(#(s.raw or "")) }
    else
      trace.learn(s, isn)
      local base = isn[s.from .. ":" .. s.sport .. ">" .. s.to .. ":" .. s.dport] or 0
      local back = isn[s.to .. ":" .. s.dport .. ">" .. s.from .. ":" .. s.sport] or 0
      local parts = { s.flags == "" and "none" or s.flags }
      if nflows > 2 then table.insert(parts, 1, s.sport .. ">" .. s.dport) end
      if s.len > 0 or s.flags:find("[SFR]") then
        local seq = (s.seq - base) % 2^32
        parts[#parts + 1] = s.len > 0 and ("seq %d:%d"):format(seq, (seq + s.len) % 2^32)
                            or ("seq %d"):format(seq)
      end
      if s.flags:find(".", 1, true) then
        parts[#parts + 1] = ("ack %d"):format((s.ack - back) % 2^32)
      end
      parts[#parts + 1] = "win " .. s.win
      if s.len > 0 then parts[#parts + 1] = "len " .. s.len end
      if s.drop then parts[#parts + 1] = "(" .. s.drop .. ")" end
      rows[#rows + 1] = { t = s.t or 0, a = cols[s.from], b = cols[s.to],
                          text = table.concat(parts, " "), lost = s.dropped,
                          refused = s.drop }
    end
  end
  return order, rows
end

--- trace:ladder() -> string
function M.ladder(tr)
  local order, rows = layout(tr)
  if #order == 0 then return "" end
  local width = 24
  for _, r in ipairs(rows) do
    if r.a and r.a ~= r.b then
      local need = (#r.text + 8) / math.abs(r.b - r.a)
      if r.lost then need = need * 4 / 3 + 2 end -- the label fits before the X
      if need > width then width = math.ceil(need) end
    end
  end
  local left = 12 -- room for the time
  local function x(c) return left + (c - 1) * width end
  local last = x(#order)
  local lines = {}
  -- the header: each address centred on its column
  local head = {}
  for i = 1, last + 20 do head[i] = " " end
  for c, addr in ipairs(order) do
    local start = math.max(1, x(c) - #addr // 2)
    for k = 1, #addr do head[start + k - 1] = addr:sub(k, k) end
  end
  lines[1] = (table.concat(head):gsub("%s+$", ""))
  for _, r in ipairs(rows) do
    local cv = {}
    for i = 1, last do cv[i] = " " end
    for c = 1, #order do cv[x(c)] = "|" end
    if r.a and r.a ~= r.b then
      local from, to = x(r.a), x(r.b)
      local dir = to > from and 1 or -1
      local lo, hi = math.min(from, to), math.max(from, to)
      for i = lo + 1, hi - 1 do cv[i] = "-" end
      if r.lost then -- dropped on the way: stops with an X
        local stop = from + dir * math.floor((hi - lo) * 3 / 4)
        for i = stop + dir, to - dir, dir do cv[i] = " " end
        cv[stop] = "X"
      else
        cv[to - dir] = dir > 0 and ">" or "<"
      end
      local label = " " .. r.text .. " "
      local a, z = lo + 1, hi - 2 -- where the label may go
      if r.lost then -- between the sender and the X
        local stop = from + dir * math.floor((hi - lo) * 3 / 4)
        a, z = math.min(from, stop) + 1, math.max(from, stop) - 1
      end
      local start = a + math.max(0, ((z - a + 1) - #label) // 2)
      for k = 1, #label do
        if start + k - 1 <= z then cv[start + k - 1] = label:sub(k, k) end
      end
    else
      local label = " " .. r.text
      for k = 1, #label do cv[x(1) + k] = label:sub(k, k) end
    end
    lines[#lines + 1] = ("%10.6f "):format(r.t):sub(1, left - 1) .. table.concat(cv):sub(left)
  end
  return table.concat(lines, "\n")
end

local function esc(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

--- trace:svg() -> string: a standalone SVG document.
function M.svg(tr)
  local order, rows = layout(tr)
  local colw, rowh, top, left = 320, 36, 56, 90
  for _, r in ipairs(rows) do
    if r.a and r.a ~= r.b then
      local need = (#r.text * 7 + 40) / math.abs(r.b - r.a)
      if need > colw then colw = math.ceil(need) end
    end
  end
  local w = left + math.max(#order - 1, 1) * colw + 60
  local h = top + #rows * rowh + 30
  local function x(c) return left + (c - 1) * colw end
  local out = {
    ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" ' ..
     'font-family="monospace" font-size="12">'):format(w, h, w, h),
    '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" ' ..
    'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>',
    ('<rect width="%d" height="%d" fill="white"/>'):format(w, h),
  }
  for c, addr in ipairs(order) do
    out[#out + 1] = ('<text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>')
      :format(x(c), top - 25, esc(addr))
    out[#out + 1] = ('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888" stroke-width="2"/>')
      :format(x(c), top - 15, x(c), h - 10)
  end
  for i, r in ipairs(rows) do
    local y = top + (i - 1) * rowh + 10
    out[#out + 1] = ('<text x="6" y="%d" fill="#555">%.6f</text>'):format(y + 4, r.t)
    if r.a and r.a ~= r.b then
      local x1, x2, y2 = x(r.a), x(r.b), y + 12
      local color = r.lost and "#c00" or (r.refused and "#c60" or "#222")
      if r.lost then
        local xs, ys = x1 + (x2 - x1) * 0.75, y + (y2 - y) * 0.75
        out[#out + 1] = ('<line x1="%d" y1="%d" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" ' ..
          'stroke-dasharray="6,3"/>'):format(x1, y, xs, ys, color)
        out[#out + 1] = ('<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-size="16" ' ..
          'font-weight="bold">X</text>'):format(xs, ys + 6, color)
      else
        out[#out + 1] = ('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" ' ..
          'marker-end="url(#head)"/>'):format(x1, y, x2, y2, color)
      end
      out[#out + 1] = ('<text x="%d" y="%d" text-anchor="middle" fill="%s" stroke="white" ' ..
        'stroke-width="4" paint-order="stroke">%s</text>')
        :format((x1 + x2) // 2, y - 2, color, esc(r.text))
    else
      out[#out + 1] = ('<text x="%d" y="%d">%s</text>'):format(x(1) + 6, y + 10, esc(r.text))
    end
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n") .. "\n"
end

function M.install(mt)
  mt.methods.ladder = M.ladder
  mt.methods.svg = M.svg
end

return M
