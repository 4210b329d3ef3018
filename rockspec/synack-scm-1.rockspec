-- synack from this checkout: `luarocks --lua-version=5.4 make rockspec/synack-scm-1.rockspec`
-- builds it offline with CMake (no LuaRocks server is needed).
rockspec_format = "3.0"
package = "synack"
version = "scm-1"
source = {
  url = "git+https://example.invalid/synack.git", -- `make` builds the checkout
}
description = {
  summary = "A TCP/IPv4 stack in C, scripted from Lua",
  detailed = [[
synack is a userspace TCP/IPv4 stack with a sans-IO C core and a Lua 5.4
binding. Scripts open, inspect and tear down connections, build and read raw
segments, and assert exact segment sequences in a deterministic simulated
network with a virtual clock.
]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA_LIBDIR = "$(LIBDIR)",
    LUA_LUADIR = "$(LUADIR)",
    SYNACK_TESTS = "OFF",
  },
}
test = {
  type = "command",
  command = "make test",
}
