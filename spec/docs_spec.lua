-- The reference must not drift from the code: every counter, error and
-- method the module has is named in docs/reference.md.
local synack = require "synack"

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

describe("docs/reference.md", function()
  local doc = read("docs/reference.md")

  it("names every stats() counter", function()
    for name in pairs(synack.counters) do
      assert.truthy(doc:find("`" .. name .. "`", 1, true), name)
    end
  end)

  it("names every drop reason", function()
    for reason in pairs(synack.drops) do
      assert.truthy(doc:find("| `" .. reason .. "` |", 1, true), reason)
    end
  end)

  it("names every error", function()
    for _, name in ipairs(synack.errors) do
      assert.truthy(doc:find("`" .. name .. "`", 1, true) or doc:find(name, 1, true), name)
    end
  end)

  it("names every method of every object", function()
    local mts = require("synack.core").metatables
    local prefix = { sim = "net", stack = "stack", listener = "listener", conn = "conn",
                     peer = "peer", trace = "trace", capture = "capture" }
    for kind, mt in pairs(mts) do
      for name in pairs(mt.methods) do
        local call = prefix[kind] .. ":" .. name
        assert.truthy(doc:find(call, 1, true), call)
      end
    end
  end)
end)
