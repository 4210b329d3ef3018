--- Framing: messages on a byte stream.
-- Each codec has `encode(message) -> string` and an incremental decoder
-- `codec:push(chunk) -> { message, ... } | nil, err` that accepts any
-- chunking, one byte at a time included.  `max` is the largest payload
-- in bytes: a frame is refused as soon as its header (or, for
-- `delimited`, the bytes buffered without a delimiter) shows it is
-- larger, so a decoder never holds more than `max` plus a header.  After
-- an error the decoder stays failed: every later push returns the same
-- error (the stream is out of step and cannot be trusted again).
local M = {}

local function check_max(max, default)
  if max == nil then return default end
  if math.type(max) ~= "integer" or max < 0 then
    error("bad option 'max' (an integer >= 0 expected)", 3)
  end
  return max
end

local function check_keys(opts, allowed, fname)
  for k in pairs(opts) do
    if not allowed[k] then error(("unknown option '%s' to framing.%s"):format(tostring(k), fname), 3) end
  end
end

-- A queue of received chunks: bytes are joined only when a whole frame is
-- taken, so pushing one byte at a time stays linear in the bytes pushed.
local Queue = {}
Queue.__index = Queue

-- parts[head..tail] hold the bytes; the first `off` bytes of parts[head]
-- are already taken.
local function queue()
  return setmetatable({ parts = {}, head = 1, tail = 0, off = 0, size = 0 }, Queue)
end

function Queue:add(s)
  if #s > 0 then
    self.tail = self.tail + 1
    self.parts[self.tail] = s
    self.size = self.size + #s
  end
end

-- The first n bytes (n <= size), removed from the queue when `remove`.
function Queue:first(n, remove)
  local out, got, i, off = {}, 0, self.head, self.off
  while got < n do
    local p = self.parts[i]
    local piece = p:sub(off + 1, off + (n - got))
    out[#out + 1] = piece
    got = got + #piece
    off = off + #piece
    if off == #p then i, off = i + 1, 0 end
  end
  if remove then
    for j = self.head, i - 1 do self.parts[j] = nil end
    self.head, self.off, self.size = i, off, self.size - n
    if self.head > self.tail then -- empty: start over at 1
      self.parts, self.head, self.tail, self.off = {}, 1, 0, 0
    end
  end
  return table.concat(out)
end

function Queue:skip(n) self:first(n, true) end

-- The last n bytes (n <= size).
function Queue:last(n)
  local out, got, i = {}, 0, self.tail
  while got < n do
    local p = self.parts[i]
    local lo = i == self.head and self.off or 0
    local piece = p:sub(math.max(#p - (n - got) + 1, lo + 1))
    out[#out + 1] = piece
    got = got + #piece
    i = i - 1
  end
  -- pieces were collected back to front
  for a = 1, #out // 2 do out[a], out[#out - a + 1] = out[#out - a + 1], out[a] end
  return table.concat(out)
end

-- The shared part of a decoder: a queue, a sticky error, and
-- `step(codec) -> message | nil [, err]` reading one frame at a time.
local function decoder(step, encode)
  local codec = { q = queue() }
  function codec.encode(a, b)
    if a == codec then a = b end -- codec:encode(m) works too
    if type(a) ~= "string" then error("bad argument #1 to 'encode' (string expected)", 2) end
    return encode(a)
  end
  function codec.push(self, chunk)
    if self ~= codec then error("use codec:push(chunk)", 2) end
    if type(chunk) ~= "string" then error("bad argument #1 to 'push' (string expected)", 2) end
    if codec.err then return nil, codec.err end
    codec.q:add(chunk)
    local out = {}
    while true do
      local msg, err = step(codec, chunk)
      if err then
        codec.err, codec.q = err, queue()
        return nil, err
      end
      if not msg then break end
      out[#out + 1] = msg
      chunk = nil -- later steps look at what is left, not the new chunk
    end
    return out
  end
  --- Bytes held, waiting for the rest of a frame.
  function codec.buffered() return codec.q.size end
  return codec
end

--- length_prefixed{ bytes=4, endian="big", max=1048576 }: a 1, 2, 4 or 8
-- byte unsigned length, then that many bytes.
function M.length_prefixed(opts)
  opts = opts or {}
  check_keys(opts, { bytes = true, endian = true, max = true }, "length_prefixed")
  local bytes = opts.bytes or 4
  if bytes ~= 1 and bytes ~= 2 and bytes ~= 4 and bytes ~= 8 then
    error("bad option 'bytes' (1, 2, 4 or 8 expected)", 2)
  end
  local endian = opts.endian or "big"
  if endian ~= "big" and endian ~= "little" then
    error("bad option 'endian' (\"big\" or \"little\" expected)", 2)
  end
  local max = check_max(opts.max, 1048576)
  if bytes < 8 and max > (1 << (8 * bytes)) - 1 then max = (1 << (8 * bytes)) - 1 end
  local fmt = (endian == "big" and ">" or "<") .. "I" .. bytes
  return decoder(function(c)
    local q = c.q
    if q.size < bytes then return nil end
    local len = string.unpack(fmt, q:first(bytes))
    if len < 0 or len > max then -- an 8-byte length above 2^63 reads negative
      return nil, ("frame too large: %s bytes, max %d"):format(
        len < 0 and ("%u"):format(len) or tostring(len), max)
    end
    if q.size < bytes + len then return nil end
    q:skip(bytes)
    return q:first(len, true)
  end, function(m)
    if #m > max then error(("message too large: %d bytes, max %d"):format(#m, max), 3) end
    return string.pack(fmt, #m) .. m
  end)
end

--- delimited{ delimiter="\r\n", max=65536 }: messages separated by a
-- delimiter, which a message may not contain.
function M.delimited(opts)
  opts = opts or {}
  check_keys(opts, { delimiter = true, max = true }, "delimited")
  local delim = opts.delimiter or "\r\n"
  if type(delim) ~= "string" or delim == "" then
    error("bad option 'delimiter' (a non-empty string expected)", 2)
  end
  local max = check_max(opts.max, 65536)
  local scanned = 0 -- bytes at the head known to hold no delimiter start
  return decoder(function(c)
    local q = c.q
    -- look only at what has not been searched, plus a delimiter's overlap
    local from = math.max(scanned - #delim + 1, 0)
    local s = q:last(q.size - from):find(delim, 1, true)
    if not s then
      scanned = q.size
      -- past max, only the start of a delimiter may follow
      if q.size > max and (q.size - max >= #delim or
                           q:last(q.size - max) ~= delim:sub(1, q.size - max)) then
        return nil, ("frame too large: more than %d bytes without a delimiter"):format(max)
      end
      return nil
    end
    local len = from + s - 1
    scanned = 0
    local msg = q:first(len, true)
    q:skip(#delim)
    return msg
  end, function(m)
    if #m > max then error(("message too large: %d bytes, max %d"):format(#m, max), 3) end
    if m:find(delim, 1, true) then error("message contains the delimiter", 3) end
    return m .. delim
  end)
end

--- netstring{ max=1048576 }: D. J. Bernstein's "<length>:<bytes>,".
function M.netstring(opts)
  opts = opts or {}
  check_keys(opts, { max = true }, "netstring")
  local max = check_max(opts.max, 1048576)
  local digits = #tostring(max)
  return decoder(function(c)
    local q = c.q
    local head = q:first(math.min(q.size, digits + 1))
    local colon = head:find(":", 1, true)
    local num = head:sub(1, colon and colon - 1 or #head)
    if not num:match("^%d*$") then return nil, "malformed netstring: length is not digits" end
    if #num > digits or (num ~= "" and tonumber(num) > max) then
      return nil, ("frame too large: %s%s bytes, max %d"):format(num, #num > digits and "..." or "", max)
    end
    if not colon then return nil end
    if num == "" then return nil, "malformed netstring: empty length" end
    if #num > 1 and num:sub(1, 1) == "0" then
      return nil, "malformed netstring: leading zero"
    end
    local len = tonumber(num)
    if q.size < colon + len + 1 then return nil end
    q:skip(colon)
    local msg = q:first(len, true)
    if q:first(1, true) ~= "," then return nil, "malformed netstring: no ',' after the data" end
    return msg
  end, function(m)
    if #m > max then error(("message too large: %d bytes, max %d"):format(#m, max), 3) end
    return #m .. ":" .. m .. ","
  end)
end

return M
