--- synack: a TCP/IPv4 stack in C, scripted from Lua.
-- The C core (synack.core) does the TCP; this file puts the module
-- together and adds what is easier to write in Lua (trace formatting, the
-- scripted peer's expect). See docs/reference.md.
local core = require "synack.core"
local trace = require "synack.trace"
local peer = require "synack.peer"
local task = require "synack.task"
local picture = require "synack.picture"

local synack = {
  version = core.version,
  sim = core.sim,
  strerror = core.strerror,
  digest = core.digest,
  segment = { build = core.segment_build, parse = core.segment_parse },
  errors = core.errors(),     -- every error name, in order
  counters = core.counters(), -- every stats() counter, with its meaning
  drops = core.drops(), -- every drop reason, with the counter it adds to
  spawn = task.spawn,
  sleep = task.sleep,
}

trace.install(core.metatables.trace)
picture.install(core.metatables.trace)
peer.install(core.metatables.peer)
task.install(core.metatables)

-- net:run drives the tasks too: they are resumed between events, and a
-- sleeping task's wake time is an event of the run.
local sim_methods = core.metatables.sim.methods
local core_run = sim_methods.run

function sim_methods.run(net, a, b)
  local function run(x, y) return core_run(net, x, y) end
  return task.drive(run, run, net, a, b, "net:run")
end

-- Live stacks (synack.tap, synack.raw) run on a libuv loop in real time.
local live_clock = { now = core.live_now }

--- synack.run([seconds | predicate [, max_seconds]]) -> boolean
local function live_direct(a, b)
  if type(a) == "number" then -- that long, whatever happens
    core.live_run(nil, a)
    return true
  end
  return core.live_run(a, b)
end

function synack.run(a, b)
  return task.drive(core.live_run, live_direct, live_clock, a, b, "synack.run")
end

synack.stop = core.live_stop
synack.tap = core.tap
synack.raw = core.raw

return synack
