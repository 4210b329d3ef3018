-- The docs do not drift: every runnable snippet of docs/tutorial.md and
-- README.md prints exactly what the document shows under it, every spec
-- snippet passes under Busted, and every script in examples/ runs.
local S = require "snippets"

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

-- Lua paths for a child process: this checkout's modules and C module.
local function child_env()
  local cpath = package.searchpath("synack.core", package.cpath)
  local dir = cpath:gsub("synack/core%.so$", "")
  return ("LUA_PATH='./lua/?.lua;./spec/?.lua;;' LUA_CPATH='%s?.so;;'"):format(dir)
end

for _, doc in ipairs { "docs/tutorial.md", "README.md" } do
  describe(doc, function()
    for i, sn in ipairs(S.extract(S.read(doc))) do
      if sn.spec then
        it(("spec snippet %d (line %d) passes under Busted"):format(i, sn.line), function()
          local path = os.tmpname() .. "_spec.lua"
          local f = assert(io.open(path, "w"))
          f:write(sn.code)
          f:close()
          local ok, out = sh(("%s busted --lua=lua5.4 %s"):format(child_env(), path))
          os.remove(path)
          assert.is_true(ok, out)
          assert.matches("1 success / 0 failures / 0 errors", out)
        end)
      else
        it(("snippet %d (line %d) prints what the document shows"):format(i, sn.line), function()
          assert.equal(sn.output, S.run(sn.code, doc .. ":" .. sn.line))
        end)
      end
    end
  end)
end

describe("examples/", function()
  local p = io.popen("ls examples/*.lua")
  for path in p:lines() do
    local text = S.read(path)
    -- live examples need root and a namespace: live_spec.lua runs them
    local live = text:find("\n%-%- Live:") or path:find("netargs")
    ;(live and pending or it)(path .. " runs", function()
      local ok, out = sh(child_env() .. " lua5.4 " .. path)
      assert.is_true(ok, out)
      assert.is_true(#out > 0)
    end)
  end
  p:close()
end)
