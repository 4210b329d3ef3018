-- With SYNACK_ROCK_TREE set (CI sets it after installing the rock into a
-- fresh tree and running the specs from outside the checkout), every
-- module must come from the installed copy, not from the checkout.
local tree = os.getenv("SYNACK_ROCK_TREE")

describe("the installed rock", function()
  local check = tree and it or pending
  check("is what require loads, C module and Lua modules alike", function()
    local core = assert(package.searchpath("synack.core", package.cpath))
    assert.truthy(core:find(tree, 1, true), core)
    for _, m in ipairs { "synack", "synack.trace", "synack.peer", "synack.task",
                         "synack.picture", "synack.framing", "synack.assert" } do
      local path = assert(package.searchpath(m, package.path), m)
      assert.truthy(path:find(tree, 1, true), path)
    end
    assert.equal(require("synack.core").version, require("synack").version)
  end)
end)
