--- synack: a TCP/IPv4 stack in C, scripted from Lua.
-- The C core (synack.core) does the TCP; this file puts the module
-- together and adds what is easier to write in Lua (trace formatting, the
-- scripted peer's expect). See docs/reference.md.
local core = require "synack.core"
local trace = require "synack.trace"
local peer = require "synack.peer"

local synack = {
  version = core.version,
  sim = core.sim,
  strerror = core.strerror,
  digest = core.digest,
  segment = { build = core.segment_build, parse = core.segment_parse },
  errors = core.errors(),     -- every error name, in order
  counters = core.counters(), -- every stats() counter, with its meaning
  drops = core.drops(), -- every drop reason, with the counter it adds to
}

trace.install(core.metatables.trace)
peer.install(core.metatables.peer)

return synack
