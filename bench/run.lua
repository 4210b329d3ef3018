-- bench/run.lua: `make bench` — every benchmark, synack side by side with
-- its peer measured in the same run (lwIP 2.1, the Linux kernel), each
-- row the median of several repetitions; a table on stdout, progress on
-- stderr, and the same as JSON in bench/out/latest.json.
--
--   lua5.4 bench/run.lua BUILD_DIR [quick]
local build = assert(arg[1], "usage: run.lua BUILD_DIR [quick]")
local quick = arg[2] == "quick"
local root = (arg[0]:match("(.*)/bench/run%.lua$") or ".")

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true end
local is_root = (function() local _, o = sh("id -u") return o:match("^0") ~= nil end)()

-- The number after `key` in a result line, or nil.
local function num(out, key) return tonumber(out:match(key .. "%s+([%d.]+)")) end

local function median(t)
  table.sort(t)
  local n = #t
  if n == 0 then return nil end
  return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
end

-- What `key` picks from a run's output: the number after it, or what the
-- function `key` finds.
local function pick(ok, out, key)
  return ok and (type(key) == "function" and key(out) or num(out, key)) or nil
end

-- Runs cmd `reps` times; the median of `key` in its output, the last
-- output, and the median of what the function `aux` finds in each output.
local function measure(cmd, key, reps, aux)
  local vals, auxs, last = {}, {}, ""
  for _ = 1, reps do
    local ok, out = sh(cmd)
    last = out
    vals[#vals + 1] = pick(ok, out, key)
    auxs[#auxs + 1] = aux and ok and aux(out) or nil
  end
  return median(vals), last, median(auxs)
end

-- Two commands run in turns (a, b, a, b, ...) so that both see the same
-- moments of a shared, noisy machine; the median of each.
local function paired(cmd_a, key_a, cmd_b, key_b, reps)
  local va, vb, why = {}, {}, nil
  for _ = 1, reps do
    local ok, out = sh(cmd_a)
    va[#va + 1] = pick(ok, out, key_a)
    if not va[#va] then why = out:sub(-200) end
    ok, out = sh(cmd_b)
    vb[#vb + 1] = pick(ok, out, key_b)
    if not vb[#vb] then why = out:sub(-200) end
  end
  local a, b = median(va), median(vb)
  return a, b, not (a and b) and ("no result: " .. (why or "?")) or nil
end

local REPS = quick and 1 or 3
local SECS = quick and 0.5 or 2
local B = build .. "/bench_synack_bench"
local LWIP = build .. "/lwip_bench " .. build .. "/lwip_node.so"
local LUA_ENV = ("LUA_PATH='%s/lua/?.lua;;' LUA_CPATH='%s/?.so;;'"):format(root, build)
local fresh_ns = is_root and have("unshare") and "unshare -n sh -c 'ip link set lo up; %s'" or nil

-- ---- the rows ---------------------------------------------------------------

local rows = {}
local function row(t) rows[#rows + 1] = t end

local lwip_ok = io.open(build .. "/lwip_node.so") ~= nil
local why_no_lwip = "liblwip-dev is not installed"

row{ name = "bulk_mtu1500_gbit_s", unit = "Gbit/s", peer = "lwIP 2.1, same set-up",
     goal = 1.5, higher = true,
     both = function() -- in turns with lwIP, as every row measured against it
       if not lwip_ok then return measure(B .. " bulk 1500 " .. SECS, "gbit_s", REPS), nil, why_no_lwip end
       return paired(B .. " bulk 1500 " .. SECS, "gbit_s", LWIP .. " bulk " .. SECS, "gbit_s", REPS)
     end }

row{ name = "bulk_mtu65535_gbit_s", unit = "Gbit/s", peer = "Linux loopback, iperf3, 1 stream",
     goal = 0.6, higher = true,
     synack = function() return measure(B .. " bulk 65535 " .. SECS, "gbit_s", REPS) end,
     peer_value = function()
       if not (fresh_ns and have("iperf3")) then return nil, "needs root, unshare and iperf3" end
       local cmd = fresh_ns:format(("iperf3 -s -1 -D -p 25301 -B 127.0.0.1; sleep 0.3; " ..
         "iperf3 -c 127.0.0.1 -p 25301 -t %d -f g"):format(math.max(1, math.floor(SECS))))
       return measure(cmd, function(out)
         return tonumber(out:match("([%d.]+) Gbits/sec[^\n]*receiver"))
       end, REPS)
     end }

row{ name = "conn_rst_conn_s", unit = "conn/s", peer = "lwIP 2.1, tcp_abort",
     goal = 1.0, higher = true, extra_peer = "Linux loopback SO_LINGER 0 (goal 10x)",
     both = function()
       local n = quick and 50000 or 300000
       if not lwip_ok then return measure(B .. " rst " .. n, "conn_s", REPS), nil, why_no_lwip end
       return paired(B .. " rst " .. n, "conn_s", LWIP .. " rst " .. n, "conn_s", quick and 3 or 5)
     end,
     extra = function()
       if not fresh_ns then return nil end
       return measure(fresh_ns:format(build .. "/bench_connrate rst " .. (quick and 10000 or 50000)),
                      "conn_s", REPS)
     end, extra_goal = 10 }

row{ name = "conn_fin_conn_s", unit = "conn/s", peer = "lwIP 2.1, client closes first (16000)",
     goal_abs = 300000, higher = true, note = "last-10% / first-10% >= 0.8",
     synack = function()
       -- short runs whose tenths a noisy neighbour can slow: more of them
       local v, _, decay = measure(B .. " fin " .. (quick and 50000 or 300000), "conn_s", quick and 3 or 5,
         function(out)
           local f, l = num(out, "first10_conn_s"), num(out, "last10_conn_s")
           return f and l and l / f
         end)
       return v, nil, decay
     end,
     peer_value = function()
       if not lwip_ok then return nil, why_no_lwip end
       return measure(LWIP .. " fin 16000", "conn_s", REPS)
     end }

-- The memory rows of synack and lwIP count their own allocations: the
-- same every run, so one run.  The kernel's slab growth moves: a median.
row{ name = "mem_idle_endpoint_bytes", unit = "bytes", peer = "lwIP 2.1 (malloc heap growth)",
     goal_abs = 512, higher = false, extra_peer = "Linux (slab growth)",
     synack = function() return measure(B .. " mem 10000", "bytes_per_endpoint", 1) end,
     peer_value = function()
       if not lwip_ok then return nil, why_no_lwip end
       return measure(LWIP .. " mem 10000", "bytes_per_endpoint", 1)
     end,
     extra = function()
       if not fresh_ns then return nil end
       return measure(fresh_ns:format(build .. "/bench_connrate mem 4000"), "bytes_per_endpoint", REPS)
     end }

row{ name = "mem_time_wait_entry_bytes", unit = "bytes", peer = "Linux tw_sock_TCP object",
     goal_abs = 64, higher = false,
     synack = function() return measure(B .. " tw " .. (quick and 20000 or 100000), "bytes_per_entry", 1) end,
     peer_value = function()
       local f = io.open("/proc/slabinfo")
       if not f then return nil, "/proc/slabinfo is not readable (root)" end
       local s = f:read("a")
       f:close()
       local size = s:match("\ntw_sock_TCP%s+%d+%s+%d+%s+(%d+)")
       return tonumber(size), size and nil or "no tw_sock_TCP slab"
     end }

row{ name = "synflood_syn_s", unit = "SYN/s", peer = "the same stack's normal handshakes",
     goal_abs = 1000000, higher = true, note = "memory flat",
     synack = function()
       local v, out = measure(build .. "/bench_synflood " .. (quick and 200000 or 1000000),
                              "SYNs absorbed in cookie mode", REPS)
       local before, after = out:match("before %-> after flood%s+(%d+) %-> (%d+)")
       return v, nil, before and tonumber(after) / tonumber(before)
     end,
     peer_value = function()
       return measure(build .. "/bench_synflood " .. (quick and 200000 or 1000000),
                      "normal handshakes %(state per SYN%)", REPS)
     end }

row{ name = "echo_lua_vs_c_mb_s", unit = "MB/s", peer = "synack driven from C",
     goal = 0.8, higher = true,
     both = function() -- in turns: the ratio is what matters, and the machine is shared
       local mb = quick and 32 or 256
       return paired(LUA_ENV .. " lua5.4 " .. root .. "/bench/echo.lua " .. mb, "mb_s",
                     build .. "/bench_echo_c " .. mb, "mb_s", quick and 3 or 7)
     end }

for _, mtu in ipairs { 1500, 9000 } do
  row{ name = "tap_bulk_mtu" .. mtu .. "_gbit_s", unit = "Gbit/s",
       peer = "kernel -> TAP -> read/write forwarder -> TAP -> kernel", goal = 0.8, higher = true,
       both = function() -- each run measures both sides, one after the other
         if not (is_root and io.open("/dev/net/tun")) then return nil, nil, "needs root and /dev/net/tun" end
         local ss, ks, out = {}, {}, ""
         for _ = 1, REPS do
           _, out = sh(("BENCH_BUILD=%s MTUS=%d %s/bench/tap_throughput.sh %s"):format(
             build, mtu, root, quick and 1 or 3))
           local s, k = out:match("\n" .. mtu .. "%s+([%d.]+)%s+([%d.]+)")
           if s then ss[#ss + 1], ks[#ks + 1] = tonumber(s) * 8 / 1000, tonumber(k) * 8 / 1000 end
         end
         if #ss == 0 then return nil, nil, "no result: " .. out:sub(-200) end
         return median(ss), median(ks)
       end }
end

row{ name = "sim_bulk_loss1pct_vs_mathis", unit = "Mbit/s", peer = "Mathis bound MSS/RTT x 1.22/sqrt(p)",
     report = true,
     both = function() -- virtual time and a fixed seed: the same every run, so one
       local ok, out = sh(LUA_ENV .. " lua5.4 " .. root .. "/bench/mathis.lua " .. (quick and 20 or 120))
       return num(out, "goodput_mbit_s"), num(out, "mathis_mbit_s"), not ok and out or nil
     end }

-- ---- running ------------------------------------------------------------------

local results = {}
for i, r in ipairs(rows) do
  io.stderr:write(("[%d/%d] %s ...\n"):format(i, #rows, r.name))
  local s, p, why, aux
  if r.both then
    s, p, why = r.both()
  else
    local _
    s, _, aux = r.synack()
    p, why = r.peer_value()
    if type(why) ~= "string" then why = nil end
  end
  local res = { name = r.name, unit = r.unit, synack = s, peer = r.peer, peer_value = p,
                goal_ratio = r.goal, goal = r.goal_abs, skipped = (s == nil or p == nil) and why or nil,
                aux = aux, note = r.note }
  if s and p and p > 0 then res.ratio = s / p end
  if r.report then
    res.met = "report"
  elseif r.goal and res.ratio then
    res.met = res.ratio >= r.goal
  elseif r.goal_abs and s then
    res.met = r.higher and s >= r.goal_abs or (not r.higher and s <= r.goal_abs)
    if r.name == "conn_fin_conn_s" and aux then res.met = res.met and aux >= 0.8 end
    if r.name == "synflood_syn_s" and aux then res.met = res.met and aux <= 1.01 end
  end
  if r.extra then
    local e = r.extra()
    res.extra_peer, res.extra_value = r.extra_peer, e
    if e and s and e > 0 then
      res.extra_ratio = s / e
      if r.extra_goal and res.met ~= nil then res.met = res.met and res.extra_ratio >= r.extra_goal end
    end
  end
  results[#results + 1] = res
end

-- ---- the table -------------------------------------------------------------------

local function fmt(v)
  if v == nil then return "-" end
  if v >= 1e5 then return ("%.0f"):format(v) end
  if v >= 100 then return ("%.1f"):format(v) end
  return ("%.2f"):format(v)
end

print(("%-30s %12s %-52s %12s %7s %-10s %s"):format("metric", "synack", "peer", "peer value",
  "ratio", "goal", "met?"))
for _, r in ipairs(results) do
  local goal = r.goal_ratio and (">= %gx"):format(r.goal_ratio)
    or (r.goal and ((r.name:find("mem_") and "<= " or ">= ") .. fmt(r.goal))) or "report"
  local met = r.met == true and "yes" or r.met == false and "NO" or r.met or "-"
  if r.skipped then met = "skipped: " .. r.skipped end
  print(("%-30s %12s %-52s %12s %7s %-10s %s"):format(r.name .. " (" .. r.unit .. ")", fmt(r.synack),
    r.peer:sub(1, 52), fmt(r.peer_value), r.ratio and ("%.2f"):format(r.ratio) or "-", goal, met))
  if r.extra_peer then
    print(("%-30s %12s %-52s %12s %7s"):format("", "", r.extra_peer:sub(1, 52), fmt(r.extra_value),
      r.extra_ratio and ("%.2f"):format(r.extra_ratio) or "-"))
  end
  if r.aux then
    print(("%-30s %12s %s"):format("", "", (r.note or "") .. (" (%.2f)"):format(r.aux)))
  end
end

-- ---- the JSON --------------------------------------------------------------------

local function json(v)
  local t = type(v)
  if v == nil then return "null" end
  if t == "number" then return v ~= v and "null" or ("%.6g"):format(v) end
  if t == "boolean" then return tostring(v) end
  if t == "string" then return '"' .. v:gsub('[%c"\\]', function(c)
    return ("\\u%04x"):format(c:byte()) end) .. '"' end
  local parts = {}
  if #v > 0 then
    for _, x in ipairs(v) do parts[#parts + 1] = json(x) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = json(k) .. ": " .. json(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local out = {}
for _, r in ipairs(results) do
  out[#out + 1] = { name = r.name, unit = r.unit, synack = r.synack, peer = r.peer,
                    peer_value = r.peer_value, ratio = r.ratio,
                    goal_ratio = r.goal_ratio,
                    goal = r.goal, met = r.met, skipped = r.skipped, extra_peer = r.extra_peer,
                    extra_value = r.extra_value, extra_ratio = r.extra_ratio, aux = r.aux }
end
os.execute("mkdir -p " .. root .. "/bench/out")
local f = assert(io.open(root .. "/bench/out/latest.json", "w"))
f:write(json(out), "\n")
f:close()
io.stderr:write("written: bench/out/latest.json\n")
