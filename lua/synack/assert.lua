--- Busted assertions for traces and connections, registered with luassert:
--
--   require "synack.assert"
--   assert.segments(trace, { "S", "S.", "." })          -- the exact flags
--   assert.segments(trace, { { from = "10.0.0.1", flags = "S" }, { flags = "S.", ack = 1001 } })
--   assert.handshake(trace)   -- S; S. acking ISN+1; . acking the other ISN+1
--   assert.state(conn_or_info, "TIME-WAIT")
--
-- Each works with assert.is_not too.  A failure shows what was expected,
-- what was there, and the trace as tcpdump lines and as a ladder diagram.
local luassert = require "luassert"
local say = require "say"
require "synack" -- installs the trace methods (tostring, ladder)

local M = {}

-- A trace object or a plain list of segment tables.
local function segs(tr)
  local list = {}
  for i = 1, #tr do list[i] = tr[i] end
  return list
end

local function picture(tr)
  if type(tr) == "userdata" then
    return "the trace:\n" .. tostring(tr) .. "\n\nas a ladder:\n" .. tr:ladder()
  end
  local lines, isn, t = {}, {}, require "synack.trace"
  for i, s in ipairs(tr) do
    t.learn(s, isn)
    lines[i] = t.line(s, isn)
  end
  return "the trace:\n" .. table.concat(lines, "\n")
end

local function show(v)
  if type(v) ~= "table" then return ("%q"):format(tostring(v)) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local x = v[k]
    parts[#parts + 1] = (type(k) == "number" and "" or tostring(k) .. "=") ..
                        (type(x) == "table" and show(x) or (type(x) == "string" and ("%q"):format(x) or tostring(x)))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- Does segment s have every field of `want` (a flags string or a table)?
-- Returns true, or false and which field differs.
local function matches(s, want)
  if type(want) == "string" then want = { flags = want } end
  for k, v in pairs(want) do
    local got = s[k]
    if k == "options" and type(v) == "table" then
      for ok, ov in pairs(v) do
        local g = (got or {})[ok]
        if show(g) ~= show(ov) then
          return false, ("options.%s is %s, not %s"):format(ok, show(g), show(ov))
        end
      end
    elseif type(v) == "table" then
      if show(got) ~= show(v) then return false, ("%s is %s, not %s"):format(k, show(got), show(v)) end
    elseif (k == "seq" or k == "ack") and type(v) == "number" and type(got) == "number" then
      if got ~= v % 2^32 then return false, ("%s is %d, not %d"):format(k, got, math.floor(v % 2^32)) end
    elseif got ~= v then
      return false, ("%s is %s, not %s"):format(k, show(got), show(v))
    end
  end
  return true
end

-- Sets the single, preformatted argument of the failure message.
local function explain(arguments, text)
  arguments[1], arguments.n, arguments.nofmt = text, 1, { true }
end

local function segments(state, arguments)
  local tr, want = arguments[1], arguments[2]
  if type(want) ~= "table" then error("assert.segments(trace, expected): expected a list", 3) end
  local list = segs(tr)
  local why
  if #list ~= #want then
    why = ("%d segments, expected %d"):format(#list, #want)
  else
    for i, w in ipairs(want) do
      local ok, field = matches(list[i], w)
      if not ok then
        why = ("segment %d: %s"):format(i, field)
        break
      end
    end
  end
  local got = {}
  for i, s in ipairs(list) do got[i] = s.flags end
  explain(arguments, ("expected: %s\nactual flags: %s\n%s\n%s"):format(
    show(want), show(got), why or "they match", picture(tr)))
  return why == nil
end

local function handshake(state, arguments)
  local tr = arguments[1]
  local list = segs(tr)
  local s, sa, a = list[1], list[2], list[3]
  local why
  if not (s and sa and a) then
    why = ("only %d segments"):format(#list)
  elseif s.flags ~= "S" then
    why = "segment 1 is [" .. s.flags .. "], not [S]"
  elseif sa.flags ~= "S." then
    why = "segment 2 is [" .. sa.flags .. "], not [S.]"
  elseif sa.from ~= s.to or sa.to ~= s.from or sa.sport ~= s.dport or sa.dport ~= s.sport then
    why = "segment 2 does not answer segment 1 (addresses or ports)"
  elseif sa.ack ~= (s.seq + 1) % 2^32 then
    why = ("the SYN-ACK acknowledges %d, not ISN+1 = %d"):format(sa.ack, (s.seq + 1) % 2^32)
  elseif a.flags ~= "." then
    why = "segment 3 is [" .. a.flags .. "], not [.]"
  elseif a.from ~= s.from or a.sport ~= s.sport then
    why = "segment 3 is not from the side that sent the SYN"
  elseif a.ack ~= (sa.seq + 1) % 2^32 then
    why = ("the ACK acknowledges %d, not the SYN-ACK's ISN+1 = %d"):format(a.ack, (sa.seq + 1) % 2^32)
  elseif a.seq ~= (s.seq + 1) % 2^32 then
    why = ("the ACK has seq %d, not ISN+1 = %d"):format(a.seq, (s.seq + 1) % 2^32)
  end
  explain(arguments, ("%s\n%s"):format(why or "it is a three-way handshake", picture(tr)))
  return why == nil
end

local function state_of(x)
  if type(x) == "table" then return x.state end
  if type(x) == "userdata" and x.info then return x:info().state end
end

local function state(st, arguments)
  local got, want = state_of(arguments[1]), arguments[2]
  local ok = got == want
  explain(arguments, ("expected state %s, got %s"):format(tostring(want), tostring(got)))
  return ok
end

say:set("assertion.segments.positive", "Expected the trace to have these segments:\n%s")
say:set("assertion.segments.negative", "Expected the trace not to have these segments:\n%s")
say:set("assertion.handshake.positive", "Expected a three-way handshake first:\n%s")
say:set("assertion.handshake.negative", "Expected no three-way handshake first:\n%s")
say:set("assertion.state.positive", "Expected a state:\n%s")
say:set("assertion.state.negative", "Expected another state:\n%s")
luassert:register("assertion", "segments", segments,
                  "assertion.segments.positive", "assertion.segments.negative")
luassert:register("assertion", "handshake", handshake,
                  "assertion.handshake.positive", "assertion.handshake.negative")
luassert:register("assertion", "state", state,
                  "assertion.state.positive", "assertion.state.negative")

M.matches = matches
return M
