-- Live interop with the Linux kernel (issue 8), as root, only inside
-- network namespaces each test creates and deletes: never any other
-- address.  synack runs in a child process inside the namespace (its TAP
-- device lives there); the kernel's side is python3, nc, ss, tcpdump and
-- tshark in the same namespace.  Every wait is bounded with timeout(1).
-- Without root, /dev/net/tun, ip or python3, the specs are pending.
local synack = require "synack"

local function sh(script)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
  local p = io.popen("bash " .. path .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  os.remove(path)
  return ok, out
end

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true end

local usable = (function()
  local p = io.popen("id -u")
  local uid = p:read("l")
  p:close()
  return uid == "0" and io.open("/dev/net/tun") ~= nil and have("ip") and have("python3")
end)()

local live = usable and it or pending

-- Where the child processes find synack: this checkout's build.
local function env()
  local core = package.searchpath("synack.core", package.cpath)
  local dir = core:gsub("synack/core%.so$", "")
  if dir:sub(1, 1) ~= "/" then dir = os.getenv("PWD") .. "/" .. dir end
  return ("export LUA_PATH='%s/lua/?.lua;%s/examples/?.lua;;' LUA_CPATH='%s?.so;;'")
    :format(os.getenv("PWD"), os.getenv("PWD"), dir)
end

local seq = 0
-- A bash prologue: a fresh namespace NS (two with NS2), deleted on exit
-- with every process in it.
local function prologue(two)
  seq = seq + 1
  local ns = ("skt%d_%d"):format(math.random(1000, 9999), seq)
  local s = {
    "set -u",
    env(),
    -- under ASan (make sanitize) only synack's processes get the runtime
    'LUA="env LD_PRELOAD=${LD_PRELOAD:-} lua5.4"; unset LD_PRELOAD',
    "NS=" .. ns .. "a; NS2=" .. ns .. "b",
    "D=$(mktemp -d)",
    "cleanup() { for n in $NS $NS2; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null;" ..
      " ip netns del $n 2>/dev/null; done; rm -rf $D; }",
    "trap cleanup EXIT",
    "ip netns add $NS && ip netns exec $NS ip link set lo up || exit 1",
  }
  if two then s[#s + 1] = "ip netns add $NS2 && ip netns exec $NS2 ip link set lo up || exit 1" end
  return table.concat(s, "\n") .. "\n"
end

local function field(out, pattern)
  return out:match(pattern)
end

describe("live, over TAP, with the kernel on the other side", function()
  live("fetches 4 MiB over HTTP/1.0 from python's http.server, the digest matching", function()
    local ok, out = sh(prologue() .. [[
head -c 4194304 /dev/urandom > $D/file
sha=$(sha256sum < $D/file | cut -c1-64)
(cd $D && exec timeout 60 ip netns exec $NS python3 -m http.server 8000 >/dev/null 2>&1) &
( for i in $(seq 200); do ip netns exec $NS ip link show synack0 >/dev/null 2>&1 && break; sleep 0.05; done
  exec timeout 60 ip netns exec $NS tcpdump -n -i synack0 -w $D/cap.pcap 2>/dev/null ) &
sleep 0.5
# --wait: tcpdump attaches once synack0 exists; 1 s was short on a busy machine
timeout 60 ip netns exec $NS $LUA examples/http_get.lua http://192.0.2.1:8000/file --out $D/got --wait 2
echo "rc=$?"
got=$(sha256sum < $D/got | cut -c1-64)
[ "$sha" = "$got" ] && echo "digest=same"
sleep 0.3; ip netns exec $NS pkill -INT tcpdump; sleep 0.5
echo "kernel:"; ip netns exec $NS ss -tan state time-wait
if command -v tshark >/dev/null; then
  echo "syn=$(tshark -r $D/cap.pcap -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l)"
  echo "synack=$(tshark -r $D/cap.pcap -Y 'tcp.flags.syn==1 && tcp.flags.ack==1' 2>/dev/null | wc -l)"
  echo "ours=$(tshark -r $D/cap.pcap -Y 'ip.src==192.0.2.2 && tcp' 2>/dev/null | wc -l)"
  echo "ours_good=$(tshark -o tcp.check_checksum:TRUE -r $D/cap.pcap -Y 'ip.src==192.0.2.2 && tcp.checksum.status==1' 2>/dev/null | wc -l)"
fi
]])
    assert.is_true(ok, out)
    assert.matches("HTTP/1.0 200 OK", out)
    assert.matches("4194304 bytes", out)
    assert.matches("rc=0", out)
    assert.matches("digest=same", out)
    -- the HTTP/1.0 server closes first: the kernel holds the TIME-WAIT
    assert.matches("192%.0%.2%.1:8000%s+192%.0%.2%.2:%d+", out)
    if field(out, "syn=(%d+)") then
      assert.equal("1", field(out, "syn=(%d+)"))
      assert.equal("1", field(out, "synack=(%d+)"))
      assert.is_true(tonumber(field(out, "ours=(%d+)")) > 100)
      assert.equal(field(out, "ours=(%d+)"), field(out, "ours_good=(%d+)"), "bad checksums from synack")
    end
  end)

  live("echoes 1 MiB from a Linux client through a synack server", function()
    local ok, out = sh(prologue() .. [[
timeout 60 ip netns exec $NS $LUA examples/echo_server.lua 7 --count 1 > $D/server.out 2>&1 &
server=$!
for i in $(seq 200); do ip netns exec $NS ip addr show synack0 2>/dev/null | grep -q 192.0.2.1 && break; sleep 0.05; done
timeout 60 ip netns exec $NS python3 spec/live/echo.py client 192.0.2.2 7 1048576
wait $server; echo "server_rc=$?"
cat $D/server.out
echo "kernel:"; ip netns exec $NS ss -tan state time-wait
]])
    assert.is_true(ok, out)
    assert.matches("ok 1048576 ", out)
    assert.matches("server_rc=0", out)
    assert.matches("1048576 bytes echoed", out)
    -- the Linux client closed first: the kernel holds the TIME-WAIT
    assert.matches("192%.0%.2%.1:%d+%s+192%.0%.2%.2:7", out)
  end)

  live("opens 200 short connections each way", function()
    local ok, out = sh(prologue() .. [[
timeout 60 ip netns exec $NS $LUA examples/echo_server.lua 7 --count 200 > $D/server.out 2>&1 &
server=$!
for i in $(seq 200); do ip netns exec $NS ip addr show synack0 2>/dev/null | grep -q 192.0.2.1 && break; sleep 0.05; done
echo "kernel_to_synack: $(timeout 60 ip netns exec $NS python3 spec/live/echo.py many 192.0.2.2 7 200)"
wait $server
echo "kernel_tw=$(ip netns exec $NS ss -tan state time-wait | grep -c ':7 *$')"
sleep 0.5
(exec timeout 60 ip netns exec $NS python3 spec/live/echo.py server 0.0.0.0 9000) &
sleep 0.5
echo "synack_to_kernel: $(timeout 60 ip netns exec $NS $LUA spec/live/many.lua 192.0.2.1 9000 200)"
echo "kernel_tw_9000=$(ip netns exec $NS ss -tan state time-wait | grep -c '192.0.2.1:9000')"
]])
    assert.is_true(ok, out)
    assert.matches("kernel_to_synack: ok 200", out)
    assert.equal("200", field(out, "kernel_tw=(%d+)"))    -- the kernel closed first each time
    assert.matches("synack_to_kernel: ok 200 time_wait 200", out) -- synack did
    assert.equal("0", field(out, "kernel_tw_9000=(%d+)"))
  end)

  live("answers ping, and scans like nmap -sS", function()
    local ok, out = sh(prologue() .. [[
(exec timeout 60 ip netns exec $NS python3 -m http.server 8000 >/dev/null 2>&1) &
sleep 0.5
timeout 30 ip netns exec $NS $LUA examples/syn_scan.lua 192.0.2.1 21-23,8000
]])
    assert.is_true(ok, out)
    assert.matches("8000/tcp%s+open%s+http%-alt", out)
    assert.matches("22/tcp%s+closed%s+ssh", out)
    assert.matches("1 open, 3 closed, 0 filtered", out)
  end)

  live("tears connections down with RST and FIN, the FIN side waiting in TIME-WAIT", function()
    local ok, out = sh(prologue() .. [[
(exec timeout 60 ip netns exec $NS python3 -m http.server 8000 >/dev/null 2>&1) &
sleep 0.5
timeout 30 ip netns exec $NS $LUA examples/teardown.lua 192.0.2.1 8000 --count 4
]])
    assert.is_true(ok, out)
    assert.matches("RSTs sent 2, FIN%-closed 2, in TIME%-WAIT now 2", out)
    local _, tw = out:gsub("TIME%-WAIT%s+192%.0%.2%.2", "")
    assert.equal(2, tw)
  end)
end)

describe("live, over AF_PACKET on a veth pair between two namespaces", function()
  live("serves a Linux client and fetches from a Linux server", function()
    local ok, out = sh(prologue(true) .. [[
ip link add va netns $NS type veth peer name vb netns $NS2 || exit 1
ip netns exec $NS ip addr add 10.9.0.1/24 dev va
ip netns exec $NS ip link set va up
ip netns exec $NS2 ip link set vb up          # no kernel address: synack's alone
timeout 60 ip netns exec $NS2 $LUA examples/echo_server.lua 7 --count 1 --raw vb --addr 10.9.0.2/24 > $D/server.out 2>&1 &
server=$!
sleep 0.5
timeout 60 ip netns exec $NS python3 spec/live/echo.py client 10.9.0.2 7 262144
wait $server; echo "server_rc=$?"
head -c 1048576 /dev/urandom > $D/file
(cd $D && exec timeout 60 ip netns exec $NS python3 -m http.server 8000 >/dev/null 2>&1) &
sleep 0.5
timeout 60 ip netns exec $NS2 $LUA examples/http_get.lua http://10.9.0.1:8000/file --raw vb --addr 10.9.0.2/24 --out $D/got
cmp -s $D/file $D/got && echo "fetched=same"
]])
    assert.is_true(ok, out)
    assert.matches("ok 262144 ", out)
    assert.matches("server_rc=0", out)
    assert.matches("1048576 bytes", out)
    assert.matches("fetched=same", out)
  end)
end)

describe("live devices refuse clearly", function()
  live("without permission: nil, EPERM and what to do", function()
    if not have("setpriv") then pending("setpriv is not installed") return end
    local ok, out = sh(prologue() .. [[
timeout 10 ip netns exec $NS setpriv --reuid=65534 --regid=65534 --clear-groups $LUA -e '
  local s, err, why = require("synack").tap{ addr = "192.0.2.2/24" }
  print(s, err, why)'
]])
    assert.is_true(ok, out)
    assert.matches("nil%s+EPERM%s+.*root or CAP_NET_ADMIN", out)
  end)

  live("for a device name that does not exist, or one that does", function()
    local ok, out = sh(prologue() .. [[
timeout 10 ip netns exec $NS $LUA -e '
  local synack = require "synack"
  print(synack.raw{ ifname = "nosuch0", addr = "10.9.0.2/24" })
  print(synack.tap{ name = "lo", addr = "192.0.2.2/24" })'
]])
    assert.is_true(ok, out)
    assert.matches("nil%s+EINVAL%s+no network interface named 'nosuch0'", out)
    assert.matches("nil%s+EADDRINUSE%s+an interface named 'lo' already exists", out)
  end)

  live("for an address the kernel already has", function()
    local ok, out = sh(prologue() .. [[
timeout 10 ip netns exec $NS $LUA -e '
  print(require("synack").tap{ addr = "127.0.0.1/8" })'
]])
    assert.is_true(ok, out)
    assert.matches("nil%s+EADDRINUSE%s+the kernel already has 127.0.0.1", out)
  end)
end)

describe("synack.run", function()
  it("runs that long, or until a predicate holds, with no device at all", function()
    local t0 = synack.run and os.clock()
    assert.is_true(synack.run(0.05))
    local n = 0
    assert.is_true(synack.run(function() n = n + 1 return n >= 3 end, 5))
    assert.is_false(synack.run(function() return false end, 0.05))
    assert.truthy(t0)
  end)

  it("stops at synack.stop() from a task", function()
    synack.spawn(function() synack.sleep(0.02) synack.stop() end)
    assert.is_false(synack.run(function() return false end, 5))
  end)
end)
