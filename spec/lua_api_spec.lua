-- The Lua surface this issue provides (API.md): module, objects, misuse
-- raising errors that name the argument, lifetimes, and trace text.
local synack = require "synack"
local H = require "helper"

describe("the synack module", function()
  it("has a version MAJOR.MINOR.PATCH", function()
    assert.matches("^%d+%.%d+%.%d+$", synack.version)
  end)

  it("explains every error name with strerror", function()
    for _, name in ipairs { "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ECONNABORTED",
                            "EADDRINUSE", "EADDRNOTAVAIL", "ENOBUFS", "EPIPE", "EPERM" } do
      local text = synack.strerror(name)
      assert.is_string(text)
      assert.is_nil(text:match("^unknown"), name)
    end
    assert.matches("unknown error", synack.strerror("EWHATEVER"))
  end)

  it("names every counter API.md lists in stats()", function()
    local net = H.net()
    local stats = net:host(H.CLIENT):stats()
    for _, k in ipairs { "segments_in", "segments_out", "retransmits", "bad_checksum", "malformed",
                         "rst_sent", "rst_received", "challenge_acks", "syncookies_sent",
                         "syncookies_valid", "syncookies_invalid", "listen_overflows",
                         "ooo_segments", "time_wait", "time_wait_reused", "time_wait_overflow",
                         "paws_drops", "memory" } do
      assert.is_number(stats[k], k)
    end
    assert.is_true(stats.memory > 0)
  end)
end)

describe("misuse raises an error naming the argument", function()
  local net, client
  before_each(function() net = H.net(); client = net:host(H.CLIENT) end)

  it("for a bad address", function()
    assert.has_error(function() client:connect("10.0.0.300", 80) end)
    local ok, err = pcall(client.connect, client, "10.0.0.300", 80)
    assert.is_false(ok)
    assert.matches("address", err)
  end)

  it("for a port out of range", function()
    local ok, err = pcall(client.connect, client, H.SERVER, 70000)
    assert.is_false(ok)
    assert.matches("port", err)
    ok, err = pcall(client.listen, client, 0)
    assert.is_false(ok)
    assert.matches("port", err)
  end)

  it("for an unknown option key: a typo must not pass silently", function()
    local ok, err = pcall(client.connect, client, H.SERVER, 80, { on_conect = print })
    assert.is_false(ok)
    assert.matches("unknown option 'on_conect'", err)
    ok, err = pcall(net.host, net, "10.0.0.7", { msll = 3 })
    assert.is_false(ok)
    assert.matches("unknown option 'msll'", err)
  end)

  it("for a bad option value, naming the key", function()
    local ok, err = pcall(net.host, net, "10.0.0.7", { msl = "long" })
    assert.is_false(ok)
    assert.matches("'msl'", err)
    ok, err = pcall(net.host, net, "10.0.0.8", { mss = 10 })
    assert.is_false(ok)
    assert.matches("'mss'", err)
    ok, err = pcall(net.host, net, "10.0.0.9", { rto_min = 5, rto_max = 1 })
    assert.is_false(ok)
    assert.matches("rto_min", err)
  end)

  it("for an option value outside its set", function()
    local ok, err = pcall(net.host, net, "10.0.0.7", { syncookies = "yes" })
    assert.is_false(ok)
    assert.matches("'syncookies'", err)
    assert.truthy(net:host("10.0.0.8", { syncookies = "never" }))
  end)

  it("for an unknown event name", function()
    local conn = client:connect(H.SERVER, 80)
    local ok, err = pcall(conn.on, conn, "bogus", print)
    assert.is_false(ok)
    assert.matches("unknown event 'bogus'", err)
  end)

  it("for a host address already on the network", function()
    local ok, err = pcall(net.host, net, H.CLIENT)
    assert.is_false(ok)
    assert.matches("already on this network", err)
  end)
end)

describe("network outcomes come back as nil, err", function()
  it("EADDRINUSE for a port already listening", function()
    local net = H.net()
    local s = net:host(H.SERVER)
    local l = s:listen(80)
    local l2, err = s:listen(80)
    assert.is_nil(l2)
    assert.equal("EADDRINUSE", err)
    assert.truthy(l)
  end)

  it("EADDRINUSE for a local port already connected to that destination", function()
    local net = H.net()
    local c = net:host(H.CLIENT)
    local a = c:connect(H.SERVER, 80, { local_port = 5000 })
    local b, err = c:connect(H.SERVER, 80, { local_port = 5000 })
    assert.is_nil(b)
    assert.equal("EADDRINUSE", err)
    assert.truthy(a)
  end)

  it("EADDRNOTAVAIL when the ephemeral range is used up", function()
    local net = H.net()
    local c = net:host(H.CLIENT, { port_range = { 6000, 6002 } })
    local keep = {}
    for i = 1, 3 do keep[i] = assert(c:connect(H.SERVER, 80)) end
    local d, err = c:connect(H.SERVER, 80)
    assert.is_nil(d)
    assert.equal("EADDRNOTAVAIL", err)
    assert.truthy(c:connect(H.SERVER, 81)) -- another destination is fine
  end)
end)

describe("object lifetimes", function()
  it("closes a collected open connection gracefully, with a FIN", function()
    local net, client, server = H.pair()
    local ended = false
    server:listen(80, { on_accept = function(c) c:on("end", function() ended = true end) end })
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    local trace = net:trace()
    conn = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    net:run(0.1)
    assert.equal("F.", trace[1].flags)
    assert.is_true(ended)
  end)

  it("keeps a connection with handlers alive while it is open", function()
    local net, client, server = H.pair()
    local got = {}
    server:listen(80, { on_accept = function(c)
      c:on("data", function(_, d) got[#got + 1] = d end) -- c is held by nobody else
    end })
    client:connect(H.SERVER, 80, { on_connect = function(c) c:write("one") end })
    net:run(0.1)
    collectgarbage()
    collectgarbage()
    local conns = client:connections()
    assert.equal(1, #conns)
    net:run(0.1)
    assert.equal("one", table.concat(got))
  end)

  it("supports <close>", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local trace = net:trace()
    do
      local conn <close> = client:connect(H.SERVER, 80)
      net:run(0.1)
    end
    net:run(0.1)
    assert.equal("F.", trace[4].flags)
  end)

  it("makes closing twice harmless, for every object", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    conn:close(); conn:close()
    conn:abort(); conn:abort()
    listener:close(); listener:close()
    assert.equal("CLOSED", listener:info().state)
    server:close(); server:close()
    net:run(1)
    assert.equal("CLOSED", conn:info().state)
  end)

  it("returns nil, err from the methods of a closed connection, and raises for a closed stack", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    conn:abort()
    assert.same({ nil, "ECONNABORTED" }, { conn:write("x") })
    assert.same({ nil, "ECONNABORTED" }, { conn:read() })
    client:close()
    assert.same({ nil, "ENOTCONN" }, { conn:write("x") })
    assert.has_error(function() client:listen(81) end, "the stack has been closed")
  end)

  it("keeps info() valid after close() until CLOSED", function()
    local net, client, server = H.pair()
    H.echo(server)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    conn:close()
    assert.equal("FIN-WAIT-1", conn:info().state)
    net:run()
    assert.equal("CLOSED", conn:info().state)
  end)

  it("turns the objects of a closed stack into closed ones instead of crashing", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local conn = client:connect(H.SERVER, 80)
    net:run(0.1)
    client:close()
    assert.equal("CLOSED", conn:info().state)
    assert.same({ nil, "ENOTCONN" }, { conn:write("x") })
    assert.has_error(function() client:connect(H.SERVER, 80) end, "the stack has been closed")
    net:run(1)
  end)
end)

describe("the \"data\" event", function()
  local payload = {}
  for i = 1, 300000 // 8 do payload[i] = ("%08d"):format(i) end
  payload = table.concat(payload)

  it("hands over every byte, in chunks of at most 16 KiB, across the buffer's wrap", function()
    -- The receive buffer fills (no handler), a read frees its front, the
    -- data that follows wraps to the start of the buffer; then a read
    -- across the wrap, and the handler takes the rest, wrapping again.
    local net, client, server = H.pair({}, nil, { rcvbuf = 65536 })
    local got, biggest, sc = {}, 0, nil
    server:listen(80, { on_accept = function(c) sc = c end })
    local c = client:connect(H.SERVER, 80)
    H.writer(c).write(payload)
    net:run(1)
    assert.equal(65536, sc:info().recv_queue)
    got[#got + 1] = sc:read(10000)
    net:run(1)
    assert.equal(65536, sc:info().recv_queue) -- refilled: 10000 bytes wrapped
    got[#got + 1] = sc:read(60000) -- across the wrap
    assert.equal(60000, #got[2])
    sc:on("data", function(_, d)
      got[#got + 1] = d
      biggest = math.max(biggest, #d)
    end)
    net:run(5)
    assert.equal(#payload, #table.concat(got))
    assert.is_true(table.concat(got) == payload)
    assert.is_true(biggest <= 16384 and biggest > 1460, "largest chunk " .. biggest)
  end)

  it("stops when the handler is removed: the data waits, the window closes; a new handler gets it", function()
    local net, client, server = H.pair({}, nil, { rcvbuf = 65536 })
    local got, sc = {}, nil
    local function take(_, d) got[#got + 1] = d end
    server:listen(80, { on_accept = function(c)
      sc = c
      c:on("data", take)
      c:on("data", nil)
    end })
    local c = client:connect(H.SERVER, 80)
    H.writer(c).write(payload)
    net:run(5)
    assert.equal(0, #got)
    assert.equal(65536, sc:info().recv_queue) -- held, up to the buffer
    assert.equal(0, c:info().snd_wnd) -- and the sender told to wait
    sc:on("data", take)
    net:run(5)
    assert.is_true(table.concat(got) == payload)
  end)
end)

describe("traces", function()
  it("print like tcpdump -n, sequence numbers relative to each side's ISN", function()
    local plain = { timestamps = false, wscale = false, sack = false }
    local net, client, server = H.pair(nil, plain, plain)
    server:listen(80, { on_accept = function(c)
      c:on("data", function(conn, d) conn:write(d:upper()) end)
    end })
    local trace = net:trace()
    client:connect(H.SERVER, 80, { local_port = 49152, on_connect = function(c) c:write("hi\n") end })
    net:run(0.05)
    assert.equal(table.concat({
      "0.000000 IP 10.0.0.1.49152 > 10.0.0.2.80: Flags [S], seq 0, win 65535, options [mss 1460], length 0",
      "0.010000 IP 10.0.0.2.80 > 10.0.0.1.49152: Flags [S.], seq 0, ack 1, win 65535, options [mss 1460], length 0",
      "0.020000 IP 10.0.0.1.49152 > 10.0.0.2.80: Flags [.], ack 1, win 65535, length 0",
      "0.020000 IP 10.0.0.1.49152 > 10.0.0.2.80: Flags [P.], seq 1:4, ack 1, win 65535, length 3",
      -- the window is 3 octets short, too little to announce (receiver SWS)
      "0.030000 IP 10.0.0.2.80 > 10.0.0.1.49152: Flags [P.], seq 1:4, ack 4, win 65532, length 3",
    }, "\n"), tostring(trace))
    assert.matches("seq %d+, win", trace:format{ absolute = true })
  end)

  it("print the options as tcpdump names them, in wire order, NOPs included", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local trace = net:trace()
    client:connect(H.SERVER, 80)
    net:run(0.1)
    local syn = trace[1].options
    local text = tostring(trace)
    assert.truthy(text:find("options [mss 1460,sackOK,TS val " .. syn.ts[1] .. " ecr 0,nop,wscale 3]", 1, true))
    assert.matches("Flags %[%.%], ack 1, win 32768, options %[nop,nop,TS val %d+ ecr %d+%]", tostring(trace))
  end)

  it("print what tcpdump -n -S prints for the same packets (when tcpdump is installed)", function()
    if os.execute("command -v tcpdump >/dev/null 2>&1") ~= true then
      pending("tcpdump is not installed")
      return
    end
    local net = synack.sim{ seed = 3, delay = 0.01, loss = 0.2 }
    local client, server = net:host(H.CLIENT), net:host(H.SERVER)
    -- (a port tcpdump has no dissector for: it prints nothing after the length)
    local l = server:listen(7777, { on_accept = function(c) c:on("data", function() c:read() end) end })
    local trace = net:trace()
    client:connect(H.SERVER, 7777, { on_connect = function(c) c:write(string.rep("x", 30000)) c:close() end })
    net:run(5)
    local path = os.tmpname()
    assert(trace:pcap(path))
    local p = io.popen("env -u LD_PRELOAD tcpdump -n -S -r " .. path .. " 2>/dev/null")
    local theirs = {}
    for line in p:lines() do theirs[#theirs + 1] = line:gsub("^%S+ ", "", 1) end
    p:close()
    os.remove(path)
    local ours = {}
    for line in trace:format{ absolute = true }:gmatch("[^\n]+") do
      ours[#ours + 1] = line:gsub("^%S+ ", "", 1):gsub(" %(dropped%)$", "")
    end
    assert.is_true(#ours > 20)
    assert.same(theirs, ours)
  end)

  it("record a stack's segments with their direction", function()
    local net, client, server = H.pair()
    local listener = server:listen(80)
    local trace = client:trace()
    client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.same({ "out", "in", "out" }, { trace[1].dir, trace[2].dir, trace[3].dir })
    assert.matches("Out IP", tostring(trace))
    trace:clear()
    assert.equal(0, #trace)
  end)
end)
