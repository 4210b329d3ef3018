-- The coroutine style of API.md: synack.spawn and the calls that wait
-- inside a task, driven by net:run.
local synack = require "synack"
local H = require "helper"

describe("tasks", function()
  it("serve and use a line protocol with receive and send", function()
    local net, client, server = H.pair()
    local l = server:listen(7)
    local log = {}
    synack.spawn(function()
      local c = assert(l:accept())
      while true do
        local line, err = c:receive("*l")
        if not line then log[#log + 1] = "server: " .. err break end
        assert(c:send(line:upper() .. "\r\n"))
      end
      c:close()
    end)
    synack.spawn(function()
      local c = client:connect(H.SERVER, 7)
      assert.equal(c, c:wait_connected())
      assert(c:send("hello\nworld\n"))
      -- (each result is taken before `#log` is: the other task appends
      -- while this one waits inside receive)
      local function add(s) log[#log + 1] = s end
      add(c:receive("*l"))
      add(c:receive(7))
      c:shutdown()
      add("rest: " .. c:receive("*a"))
      c:close()
    end)
    net:run()
    assert.same({ "HELLO", "WORLD\r\n", "server: EOF", "rest: " }, log)
  end)

  it("receive a byte count across many segments, and *a until the FIN", function()
    local net, client, server = H.pair()
    local l = server:listen(7)
    local big = string.rep("0123456789", 50000)
    local got
    synack.spawn(function()
      local c = l:accept()
      local head = c:receive(10)
      got = head .. c:receive("*a")
    end)
    synack.spawn(function()
      local c = client:connect(H.SERVER, 7)
      c:wait_connected()
      assert(c:send(big)) -- waits for the send buffer to drain, again and again
      c:close()
    end)
    net:run()
    assert.equal(#big, #got)
    assert.equal(big, got)
  end)

  it("return nil, EOF and the partial data when the stream ends early", function()
    local net, client, server = H.pair()
    local l = server:listen(7, { on_accept = function(c) c:write("abc") c:close() end })
    local r
    synack.spawn(function()
      local c = client:connect(H.SERVER, 7)
      c:wait_connected()
      r = table.pack(c:receive(10))
    end)
    net:run()
    assert.same({ n = 3, nil, "EOF", "abc" }, r)
  end)

  it("report a refused connection from wait_connected", function()
    local net, client = H.pair()
    local r
    synack.spawn(function()
      r = table.pack(client:connect(H.SERVER, 9):wait_connected())
    end)
    net:run()
    assert.same({ n = 2, nil, "ECONNREFUSED" }, r)
  end)

  it("sleep on the network's clock", function()
    local net = H.net()
    local times = {}
    synack.spawn(function()
      synack.sleep(1.5)
      times[#times + 1] = net:now()
      synack.sleep(0)
      times[#times + 1] = net:now()
    end)
    synack.spawn(function()
      synack.sleep(0.5)
      times[#times + 1] = net:now()
    end)
    net:run()
    assert.same({ 0.5, 1.5, 1.5 }, times)
  end)

  it("stop net:run(seconds) on time even while a task sleeps longer", function()
    local net = H.net()
    local woke = false
    synack.spawn(function() synack.sleep(10) woke = true end)
    net:run(3)
    assert.equal(3, net:now())
    assert.is_false(woke)
    net:run(8)
    assert.is_true(woke)
  end)

  it("pass arguments, and run at the driver's next turn, not inside spawn", function()
    local net = H.net()
    local got
    local t = synack.spawn(function(a, b) got = a + b end, 2, 3)
    assert.is_nil(got)
    assert.equal("suspended", t:status())
    net:run(0)
    assert.equal(5, got)
    assert.equal("dead", t:status())
  end)

  it("raise an error inside a task from net:run, with the task's traceback", function()
    local net = H.net()
    local function inner() error("boom in the task") end
    synack.spawn(function() synack.sleep(1) inner() end)
    local ok, err = pcall(net.run, net)
    assert.is_false(ok)
    assert.matches("boom in the task", err)
    assert.matches("stack traceback", err)
    assert.matches("inner", err)
  end)

  it("refuse the waiting calls outside a task, with a clear error", function()
    local _, _, _, conn = H.accepted()
    assert.has_error(function() conn:receive("*l") end,
                     "conn:receive must be called inside a task (synack.spawn)")
    assert.has_error(function() synack.sleep(1) end)
    assert.has_error(function() conn:send("x") end)
    assert.has_error(function() conn:wait_connected() end)
  end)

  it("give listener:accept() outside a task the next queued conn or nil", function()
    local net, stack, peer, conn, isn, iss, listener = H.accepted()
    local l2 = stack:listen(81)
    assert.is_nil(l2:accept())
  end)

  it("end a task waiting in accept() when the listener closes", function()
    local net, _, server = H.pair()
    local l = server:listen(7)
    local r
    synack.spawn(function() r = table.pack(l:accept()) end)
    synack.spawn(function() synack.sleep(1) l:close() end)
    net:run()
    assert.same({ n = 2, nil, "ECONNABORTED" }, r)
  end)

  it("leave receive()'s read-ahead to conn:read", function()
    local net, client, server = H.pair()
    local l = server:listen(7, { on_accept = function(c) c:write("one\ntwo") end })
    local c = client:connect(H.SERVER, 7)
    local line
    synack.spawn(function() c:wait_connected() line = c:receive("*l") end)
    net:run(1)
    assert.equal("one", line)
    assert.equal("two", c:read())
  end)

  it("refuse net:run inside a task", function()
    local net = H.net()
    synack.spawn(function() net:run(1) end)
    local ok, err = pcall(net.run, net)
    assert.is_false(ok)
    assert.matches("net:run cannot be called inside a task", err)
  end)
end)
