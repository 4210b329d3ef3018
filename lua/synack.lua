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
  if task.current() then
    error("net:run cannot be called inside a task (use synack.sleep)", 2)
  end
  if not task.active() then return core_run(net, a, b) end
  local pred, limit
  if type(a) == "number" then
    limit = net:now() + a
  elseif type(a) == "function" then
    pred = a
    if b ~= nil then limit = net:now() + b end
  elseif a ~= nil then
    return core_run(net, a, b) -- raises the usual argument error
  end
  local function stop() return task.has_ready() or (pred ~= nil and pred()) end
  while true do
    task.pump(net)
    if pred and pred() then return true end
    local wake, target = task.next_wake(net), limit
    if wake and (not target or wake < target) then target = wake end
    if target and target < net:now() then target = net:now() end
    local hit = core_run(net, stop, target and target - net:now() or nil)
    if not hit then
      local now = net:now()
      if limit and now >= limit then
        task.pump(net)
        if pred then return pred() and true or false end
        return true
      end
      if not target then -- nothing left to happen
        task.pump(net)
        if task.has_ready() or task.next_wake(net) then goto continue end
        if pred then return pred() and true or false end
        return true
      end
    end
    ::continue::
  end
end

return synack
