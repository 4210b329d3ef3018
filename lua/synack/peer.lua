--- Conveniences for scripted peers (net:peer): expect().
local M = {}

local function describe(s)
  if not s then return "nothing" end
  return ("[%s] seq %d ack %d win %d len %d"):format(s.flags, s.seq, s.ack, s.win, s.len)
end

--- peer:expect(flags [, fields [, max_seconds]]) -> segment
-- Receives the next segment and checks its flags and any other fields
-- given (seq, ack, win, len, data, sport, dport, ...; options.mss and the
-- like through fields.options). Raises with what arrived instead.
local function expect(p, flags, fields, max_seconds)
  local s = p:receive(max_seconds)
  local function fail(why)
    error(("peer %s expected [%s]%s, got %s (%s)"):format(
      p.addr, flags, fields and " with fields" or "", describe(s), why), 2)
  end
  if not s then fail("no segment arrived") end
  if s.flags ~= flags then fail("flags differ") end
  for k, v in pairs(fields or {}) do
    if k == "options" then
      for ok, ov in pairs(v) do
        local got = s.options[ok]
        if type(ov) == "table" then
          for i, x in ipairs(ov) do
            if not got or got[i] ~= x then fail("option " .. ok .. " differs") end
          end
        elseif got ~= ov then
          fail(("option %s is %s, not %s"):format(ok, tostring(got), tostring(ov)))
        end
      end
    elseif s[k] ~= v then
      fail(("%s is %s, not %s"):format(k, tostring(s[k]), tostring(v)))
    end
  end
  return s
end

function M.install(mt)
  mt.methods.expect = expect
end

return M
