-- synack.framing: encoders and incremental decoders, any chunking, bounded.
local framing = require "synack.framing"

-- Feeds `bytes` to codec in pieces of `size` (1: a byte at a time);
-- returns every message, or nil, err.
local function feed(codec, bytes, size)
  local out = {}
  for i = 1, #bytes, size do
    local msgs, err = codec:push(bytes:sub(i, i + size - 1))
    if not msgs then return nil, err end
    for _, m in ipairs(msgs) do out[#out + 1] = m end
  end
  return out
end

local messages = { "", "a", "hello, world", string.rep("\0\255\r\n", 300), string.rep("z", 70000) }

describe("framing", function()
  local kinds = {
    ["length_prefixed 1 byte"] = function() return framing.length_prefixed{ bytes = 1 } end,
    ["length_prefixed 2 bytes little"] = function()
      return framing.length_prefixed{ bytes = 2, endian = "little" }
    end,
    ["length_prefixed 4 bytes"] = function() return framing.length_prefixed{} end,
    ["length_prefixed 8 bytes"] = function() return framing.length_prefixed{ bytes = 8 } end,
    ["delimited"] = function() return framing.delimited{ delimiter = "\0END\0", max = 100000 } end,
    ["netstring"] = function() return framing.netstring{} end,
  }
  for name, make in pairs(kinds) do
    it(name .. " round-trips under every chunking", function()
      local codec = make()
      local list, bytes = {}, {}
      for _, m in ipairs(messages) do
        local ok, enc = pcall(codec.encode, m)
        if ok then
          list[#list + 1] = m
          bytes[#bytes + 1] = enc
        end
      end
      bytes = table.concat(bytes)
      for _, size in ipairs { 1, 2, 3, 7, 1000, #bytes } do
        local c = make()
        assert.same(list, assert(feed(c, bytes, size)), "chunks of " .. size)
        assert.equal(0, c.buffered())
      end
    end)
  end

  it("writes lengths in the byte order asked for", function()
    assert.equal("\0\0\0\3abc", framing.length_prefixed{}.encode("abc"))
    assert.equal("\3\0abc", framing.length_prefixed{ bytes = 2, endian = "little" }.encode("abc"))
    assert.equal("\0\0\0\0\0\0\0\3abc", framing.length_prefixed{ bytes = 8 }.encode("abc"))
    assert.equal("3:abc,", framing.netstring{}.encode("abc"))
    assert.equal("abc\r\n", framing.delimited{}.encode("abc"))
    local c = framing.netstring{}
    assert.equal(c.encode("x"), c:encode("x")) -- both call forms
  end)

  it("refuses an oversize length from the header alone, before the payload", function()
    local c = framing.length_prefixed{ max = 10 }
    local msgs, err = c:push("\0\0\0\11")
    assert.is_nil(msgs)
    assert.matches("frame too large: 11 bytes, max 10", err)
    assert.equal(0, c.buffered())
    -- and stays failed: the stream is out of step
    assert.same({ nil, err }, { c:push("\0\0\0\1x") })
  end)

  it("refuses a 2^64-1 length of an 8-byte prefix", function()
    local msgs, err = framing.length_prefixed{ bytes = 8 }:push(string.rep("\255", 8))
    assert.is_nil(msgs)
    assert.matches("frame too large: 18446744073709551615 bytes", err)
  end)

  it("refuses a delimited frame past max without buffering it", function()
    local c = framing.delimited{ max = 8 }
    assert.same({}, c:push("12345678\r")) -- could still be 8 bytes and "\r\n"
    local msgs, err = c:push("x")
    assert.is_nil(msgs)
    assert.matches("frame too large", err)
    local d = framing.delimited{ max = 8 }
    assert.is_nil((d:push("123456789")))
    -- a never-ending line, a byte at a time: refused at max + 1
    local e = framing.delimited{ max = 100 }
    local refused_at
    for i = 1, 1000 do
      if not e:push("a") then refused_at = i break end
      assert.is_true(e.buffered() <= 101)
    end
    assert.equal(101, refused_at)
  end)

  it("refuses malformed netstrings", function()
    for _, bad in ipairs { "x:abc,", "03:abc,", ":abc,", "3:abcd", "-1:", "3;abc," } do
      local msgs, err = framing.netstring{}:push(bad)
      assert.is_nil(msgs, bad)
      assert.matches("malformed netstring", err, 1, false, bad)
    end
    local msgs, err = framing.netstring{ max = 99 }:push("100")
    assert.is_nil(msgs)
    assert.matches("frame too large", err)
  end)

  it("refuses to encode what the decoder would refuse", function()
    assert.has_error(function() framing.length_prefixed{ bytes = 1 }.encode(string.rep("x", 256)) end)
    assert.has_error(function() framing.delimited{}.encode("a\r\nb") end)
    assert.has_error(function() framing.netstring{ max = 2 }.encode("abc") end)
  end)

  it("raises for bad options, naming them", function()
    assert.has_error(function() framing.length_prefixed{ bytes = 3 } end, "bad option 'bytes' (1, 2, 4 or 8 expected)")
    assert.has_error(function() framing.length_prefixed{ endian = "middle" } end)
    assert.has_error(function() framing.delimited{ delimiter = "" } end)
    assert.has_error(function() framing.netstring{ maxx = 1 } end, "unknown option 'maxx' to framing.netstring")
  end)

  it("takes a large frame a byte at a time", function()
    local c = framing.length_prefixed{}
    local big = string.rep("q", 1 << 18)
    local got = assert(feed(c, c.encode(big), 1))
    assert.equal(big, got[1])
  end)
end)
