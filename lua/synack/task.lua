--- Tasks: the coroutine style of API.md.
-- synack.spawn(fn, ...) makes a task; inside it conn:wait_connected(),
-- conn:receive(), conn:send(), listener:accept() and synack.sleep() wait
-- without blocking anything else.  Tasks are resumed by whatever drives
-- the network (net:run in a simulation), never from inside a callback:
-- an event only marks the waiting task ready, and the driver resumes it
-- after the event has been delivered.  An error inside a task stops the
-- driver and is raised from it with the task's traceback.
local core = require "synack.core"

local M = {}

local ready = {}    -- tasks to resume, in order: { task, ... }
local sleepers = {} -- tasks waiting for a time, sorted by wake time
local current       -- the task running now
local live = 0      -- tasks not yet finished

local task_mt = { __index = {} }
task_mt.__name = "synack.task"
task_mt.__tostring = function(t)
  return ("synack.task (%s)"):format(coroutine.status(t.co))
end

--- The task running now, or nil outside tasks.
function M.current() return current end

--- True when some task is ready to run.
function M.has_ready() return ready[1] ~= nil end

--- True while any task is unfinished.
function M.active() return live > 0 end

local function make_ready(t, ...)
  if t.done or t.queued then return end
  t.queued = true
  t.wake_args = table.pack(...)
  ready[#ready + 1] = t
end

--- synack.spawn(fn, ...): a new task, run at the driver's next turn.
function M.spawn(fn, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'spawn' (a function expected)", 2)
  end
  local t = setmetatable({ co = coroutine.create(fn), args = table.pack(...) }, task_mt)
  live = live + 1
  make_ready(t)
  return t
end

function task_mt.__index.status(t) return coroutine.status(t.co) end

-- Resumes one task; a failure is raised with the task's traceback.
local function resume(t)
  local args = t.args or t.wake_args
  t.args = nil
  t.queued = false
  local prev = current
  current = t
  local ok, err = coroutine.resume(t.co, table.unpack(args, 1, args.n))
  current = prev
  if coroutine.status(t.co) == "dead" then
    t.done = true
    live = live - 1
    if not ok then
      error(debug.traceback(t.co, "error in a synack task: " .. tostring(err)), 0)
    end
  end
end

--- Resumes every ready task and every sleeper whose time has come on
-- `clock` (an object with :now()).  Tasks readied while this runs are
-- resumed too, in order.
function M.pump(clock)
  local now = clock and clock:now()
  while true do
    while sleepers[1] and now and sleepers[1].wake <= now do
      local s = table.remove(sleepers, 1)
      make_ready(s.task)
    end
    local t = table.remove(ready, 1)
    if not t then return end
    t.clock = t.clock or clock
    resume(t)
  end
end

--- Runs a driver with the tasks: `run(pred, max_seconds)` is the driver's
-- own loop (true when pred holds; false when max_seconds pass; with
-- neither, true once nothing is left to happen), `clock` its clock; `a`
-- and `b` are the arguments of net:run / synack.run, which `direct(a, b)`
-- serves when no task exists.
function M.drive(run, direct, clock, a, b, name)
  if current then
    error(name .. " cannot be called inside a task (use synack.sleep)", 3)
  end
  local pred, limit
  if type(a) == "number" then
    if a < 0 then error(("bad argument #1 to '%s' (seconds must be >= 0)"):format(name), 3) end
    limit = clock:now() + a
  elseif type(a) == "function" then
    pred = a
    if b ~= nil then
      if type(b) ~= "number" or b < 0 then
        error(("bad argument #2 to '%s' (max_seconds >= 0 expected)"):format(name), 3)
      end
      limit = clock:now() + b
    end
  elseif a ~= nil then
    error(("bad argument #1 to '%s' (seconds, a predicate function or nothing)"):format(name), 3)
  end
  if not M.active() then return direct(a, b) end -- the driver alone
  local function stop() return M.has_ready() or (pred ~= nil and pred()) end
  while true do
    M.pump(clock)
    if pred and pred() then return true end
    local wake, target = M.next_wake(clock), limit
    if wake and (not target or wake < target) then target = wake end
    local now = clock:now()
    if target and target < now then target = now end
    local hit, why = run(stop, target and target - now or nil)
    if why == "stopped" then return false end
    if not hit then
      if limit and clock:now() >= limit then
        M.pump(clock)
        if pred then return pred() and true or false end
        return true
      end
      if not target then -- nothing left to happen
        M.pump(clock)
        if not M.has_ready() and not M.next_wake(clock) then
          if pred then return pred() and true or false end
          return true
        end
      end
    end
  end
end

--- The earliest wake time of a sleeper on `clock`, or nil.
function M.next_wake(clock)
  for _, s in ipairs(sleepers) do
    if s.clock == clock then return s.wake end
  end
end

local function in_task(what)
  if not current then
    error(what .. " must be called inside a task (synack.spawn)", 3)
  end
  return current
end

--- synack.sleep(seconds): the task waits that long on its network's clock.
function M.sleep(seconds)
  local t = in_task("synack.sleep")
  if type(seconds) ~= "number" or seconds < 0 then
    error("bad argument #1 to 'sleep' (seconds >= 0 expected)", 2)
  end
  if not t.clock then coroutine.yield() end -- first turn: learn the clock
  local s = { task = t, clock = t.clock, wake = t.clock:now() + seconds }
  local i = #sleepers + 1
  while i > 1 and sleepers[i - 1].wake > s.wake do i = i - 1 end
  table.insert(sleepers, i, s)
  coroutine.yield()
end

-- Waits until `obj` (a conn or a listener) has an event; returns it.
local function wait_event(obj)
  local t = current
  core.set_waker(obj, function(_, event, err) make_ready(t, event, err) end)
  local event, err = coroutine.yield()
  core.set_waker(obj, nil)
  return event, err
end

-- ---- connection methods ----------------------------------------------------

local leftover = setmetatable({}, { __mode = "k" }) -- conn -> read, not consumed

local connected_states = {
  ["ESTABLISHED"] = true, ["FIN-WAIT-1"] = true, ["FIN-WAIT-2"] = true,
  ["CLOSE-WAIT"] = true, ["CLOSING"] = true, ["LAST-ACK"] = true, ["TIME-WAIT"] = true,
}

local function install_conn(methods)
  local raw_read = methods.read

  -- conn:read returns what receive() read ahead first.
  function methods.read(conn, max)
    local lo = leftover[conn]
    if lo then
      if max and max < #lo then
        leftover[conn] = lo:sub(max + 1)
        return lo:sub(1, max)
      end
      leftover[conn] = nil
      return lo
    end
    return raw_read(conn, max)
  end

  --- conn:wait_connected() -> conn | nil, err
  function methods.wait_connected(conn)
    in_task("conn:wait_connected")
    while true do
      local state = conn:info().state
      if connected_states[state] then return conn end
      if state == "CLOSED" then
        local _, err = raw_read(conn, 0)
        return nil, err or "ECONNABORTED"
      end
      local event, err = wait_event(conn)
      if event == "close" and err then return nil, err end
    end
  end

  -- Reads what is buffered into the leftover; returns false at the end
  -- of the stream (and the error, if any).
  local function fill(conn)
    local data, err = raw_read(conn)
    if data == nil then return false, err end
    if data ~= "" then leftover[conn] = (leftover[conn] or "") .. data end
    return true
  end

  local function take(conn, n)
    local lo = leftover[conn]
    local s = lo:sub(1, n)
    leftover[conn] = #lo > n and lo:sub(n + 1) or nil
    return s
  end

  --- conn:receive(pattern) -> string | nil, err [, partial]
  -- "*l": a line without its "\n" (and a "\r" before it); "*a": all until
  -- the peer's FIN; n: exactly n bytes.  At the end of the stream before
  -- the pattern completes: nil, "EOF", and what was read.
  function methods.receive(conn, pattern)
    in_task("conn:receive")
    pattern = pattern or "*l"
    local n = tonumber(pattern)
    if not n and pattern ~= "*l" and pattern ~= "*a" then
      error("bad argument #1 to 'receive' (\"*l\", \"*a\" or a byte count expected)", 2)
    end
    if n and (n < 0 or n ~= math.floor(n)) then
      error("bad argument #1 to 'receive' (a byte count >= 0 expected)", 2)
    end
    while true do
      local lo = leftover[conn] or ""
      if n and #lo >= n then return take(conn, n) end
      if pattern == "*l" then
        local nl = lo:find("\n", 1, true)
        if nl then
          local line = take(conn, nl)
          return (line:gsub("\r?\n$", ""))
        end
      end
      local more, err = fill(conn)
      if not more then
        local rest = leftover[conn] or ""
        leftover[conn] = nil
        if pattern == "*a" and (err == "EOF" or err == nil) then return rest end
        return nil, err or "EOF", rest
      end
      if (leftover[conn] or "") == lo then wait_event(conn) end
    end
  end

  --- conn:send(data) -> true | nil, err: waits until all of data is queued.
  function methods.send(conn, data)
    in_task("conn:send")
    if type(data) ~= "string" then
      error("bad argument #1 to 'send' (string expected, got " .. type(data) .. ")", 2)
    end
    while #data > 0 do
      local n, err = conn:write(data)
      if not n then return nil, err end
      data = data:sub(n + 1)
      if #data > 0 then
        local event, cerr = wait_event(conn)
        if event == "close" then return nil, cerr or "EPIPE" end
      end
    end
    return true
  end
end

-- ---- listener methods ------------------------------------------------------

local function install_listener(methods)
  local raw_accept, raw_close = methods.accept, methods.close
  local waiting = setmetatable({}, { __mode = "k" }) -- listener -> task

  --- listener:accept() -> conn: in a task, waits for one; outside, the next
  -- queued connection or nil.  nil, "ECONNABORTED" once it is closed.
  function methods.accept(l)
    if not current then return raw_accept(l) end
    while true do
      local c = raw_accept(l)
      if c then return c end
      if l:info().state == "CLOSED" then return nil, "ECONNABORTED" end
      waiting[l] = current
      wait_event(l)
      waiting[l] = nil
    end
  end

  function methods.close(l)
    raw_close(l)
    local t = waiting[l]
    if t then make_ready(t, "close") end
  end
end

function M.install(metatables)
  install_conn(metatables.conn.methods)
  install_listener(metatables.listener.methods)
end

return M
