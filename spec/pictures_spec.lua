-- trace:ladder(), trace:svg(), trace:pcap(), stack:pcap().
local synack = require "synack"
local H = require "helper"

local function exchange(opts)
  local net, client, server = H.pair(opts)
  local tr = net:trace()
  local l = server:listen(80, { on_accept = function(c)
    c:on("data", function(_, d) c:write(d) end)
    c:on("end", function() c:close() end)
  end })
  client:connect(H.SERVER, 80, { on_connect = function(c) c:write("hello") c:shutdown() end })
  net:run(1)
  return tr, net, client, server, l
end

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

describe("trace:ladder()", function()
  it("draws one column per endpoint and one arrow per segment, with times", function()
    local tr = exchange()
    local lines = {}
    for line in tr:ladder():gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(#tr + 1, #lines)
    assert.matches("^%s+10%.0%.0%.1%s+10%.0%.0%.2$", lines[1])
    assert.matches("^  0%.000000 |%-+ S seq 0 win 65535 %-+>|$", lines[2])
    assert.matches("^  0%.010000 |<%-+ S%. seq 0 ack 1 win 65535 %-+|$", lines[3])
    assert.matches("P%. seq 1:6 ack 1 win %d+ len 5", lines[5])
  end)

  it("ends a packet the network dropped in an X", function()
    local net, client, server = H.pair()
    local tr = net:trace()
    net:impair(H.CLIENT, H.SERVER, { loss = 1 })
    client:connect(H.SERVER, 80)
    net:run(0.5)
    local line = tr:ladder():match("\n([^\n]+)")
    assert.matches("|%-+ S seq 0 win 65535 %-+X%s+|$", line)
  end)

  it("says why a stack refused a packet", function()
    local net = H.net()
    local stack = net:host(H.SERVER)
    local peer = net:peer(H.PEER)
    local tr = stack:trace()
    peer:send{ to = H.SERVER, sport = 1, dport = 80, flags = "FS", seq = 1 }
    net:run(0.1)
    assert.matches("%(SYN with FIN%)", tr:ladder())
  end)
end)

describe("trace:svg()", function()
  it("is a standalone SVG document with a line per endpoint and an arrow per segment", function()
    local tr = exchange()
    local svg = tr:svg()
    assert.matches('^<svg xmlns="http://www.w3.org/2000/svg"', svg)
    assert.matches("</svg>\n$", svg)
    local arrows = select(2, svg:gsub('marker%-end="url%(#head%)"', ""))
    assert.equal(#tr, arrows)
    assert.truthy(svg:find(">10.0.0.1</text>", 1, true))
  end)

  it("renders (rsvg-convert, when installed)", function()
    if not have("rsvg-convert") then pending("rsvg-convert is not installed") return end
    local tr = exchange()
    local path = os.tmpname()
    local f = assert(io.open(path .. ".svg", "w"))
    f:write(tr:svg())
    f:close()
    -- (env -u: under ASan, LD_PRELOAD is for synack, not for the tools)
    assert.is_true(os.execute(("env -u LD_PRELOAD rsvg-convert %s.svg -o %s.png"):format(path, path)))
    local png = assert(io.open(path .. ".png", "rb")):read("a")
    assert.equal("\137PNG", png:sub(1, 4))
    os.remove(path .. ".svg"); os.remove(path .. ".png"); os.remove(path)
  end)
end)

describe("pcap files", function()
  local function check_with(tool, path, count)
    if not have(tool) then return end
    local p = io.popen(tool == "tshark" and ("env -u LD_PRELOAD tshark -r %s 2>&1"):format(path)
                       or ("env -u LD_PRELOAD tcpdump -n -r %s 2>&1"):format(path))
    local out = p:read("a")
    p:close()
    assert.is_nil(out:lower():find("warn"), out)
    local n = 0
    for line in out:gmatch("[^\n]+") do
      if line:find("10.0.0.1", 1, true) then n = n + 1 end
    end
    assert.equal(count, n, out)
  end

  it("trace:pcap writes what tcpdump and tshark read without a warning", function()
    local tr = exchange()
    local path = os.tmpname()
    assert.is_true(tr:pcap(path))
    local bytes = assert(io.open(path, "rb")):read("a")
    assert.equal(24 + #tr * 16, #bytes - (function() local s = 0 for i = 1, #tr do s = s + #tr:raw(i) end return s end)())
    check_with("tcpdump", path, #tr)
    check_with("tshark", path, #tr)
    os.remove(path)
  end)

  it("stack:pcap records a stack's packets as they happen, until closed", function()
    local net, client, server = H.pair()
    local path = os.tmpname()
    local cap <close> = assert(server:pcap(path))
    local l = server:listen(80)
    local c = client:connect(H.SERVER, 80)
    net:run(0.1)
    assert.is_true(cap:close())
    assert.is_true(cap:close()) -- twice is harmless
    c:close()
    net:run(0.1) -- not recorded any more
    check_with("tcpdump", path, 3)
    check_with("tshark", path, 3)
    os.remove(path)
  end)

  it("return nil and a message for a path that cannot be written", function()
    local tr = exchange()
    local ok, err = tr:pcap("/nonexistent/dir/x.pcap")
    assert.is_nil(ok)
    assert.matches("x.pcap", err)
    local net = H.net()
    local cap, err2 = net:host(H.SERVER):pcap("/nonexistent/dir/y.pcap")
    assert.is_nil(cap)
    assert.matches("y.pcap", err2)
  end)
end)
