#!/usr/bin/env bash
# bench/tap_throughput.sh [SECONDS]: bulk TCP throughput of one synack
# connection to the Linux kernel over TAP, at MTU 1500 and 9000, side by
# side with the ceiling measured in the same run: kernel to kernel through
# bench/tapfwd (a plain userspace TAP forwarder).  Root; everything in
# network namespaces made here and deleted after.
set -u
secs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$root/build-bench}
export LUA_PATH="$root/lua/?.lua;;" LUA_CPATH="$build/?.so;;"
ns=sktb$$
cleanup() {
  for n in ${ns}a ${ns}b ${ns}f; do
    ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del $n 2>/dev/null
  done
}
trap cleanup EXIT

rate() { sed -n 's/.*MB\/s \([0-9.]*\).*/\1/p'; }

synack_run() { # mtu
  ip netns add ${ns}a && ip netns exec ${ns}a ip link set lo up
  (timeout $((secs + 10)) ip netns exec ${ns}a python3 "$root/bench/sink.py" recv 0.0.0.0 5001 $secs > /tmp/sk_sink.$$ 2>&1 &)
  sleep 0.5
  timeout $((secs + 10)) ip netns exec ${ns}a lua5.4 "$root/bench/tap_bulk.lua" 192.0.2.1 5001 $secs $1 > /tmp/sk_src.$$ 2>&1
  sleep 0.5
  cat /tmp/sk_sink.$$ | rate
  cleanup
}

kernel_run() { # mtu
  ip netns add ${ns}a; ip netns add ${ns}b; ip netns add ${ns}f
  ip netns exec ${ns}f "$build/bench_tapfwd" fwa fwb $1 > /tmp/sk_fwd.$$ 2>&1 &
  for i in $(seq 100); do grep -q ready /tmp/sk_fwd.$$ 2>/dev/null && break; sleep 0.05; done
  ip -n ${ns}f link set fwa netns ${ns}a
  ip -n ${ns}f link set fwb netns ${ns}b
  ip -n ${ns}a addr add 192.0.2.1/24 dev fwa; ip -n ${ns}a link set fwa up
  ip -n ${ns}b addr add 192.0.2.2/24 dev fwb; ip -n ${ns}b link set fwb up
  (timeout $((secs + 10)) ip netns exec ${ns}a python3 "$root/bench/sink.py" recv 0.0.0.0 5001 $secs > /tmp/sk_sink.$$ 2>&1 &)
  sleep 0.5
  timeout $((secs + 10)) ip netns exec ${ns}b python3 "$root/bench/sink.py" send 192.0.2.1 5001 $secs
  sleep 0.5
  cat /tmp/sk_sink.$$ | rate
  cleanup
}

printf "%-8s %22s %26s %8s\n" "MTU" "synack -> kernel MB/s" "kernel -> kernel MB/s" "ratio"
for mtu in ${MTUS:-1500 9000}; do
  s=$(synack_run $mtu); k=$(kernel_run $mtu)
  r=$(awk -v a="$s" -v b="$k" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  printf "%-8s %22s %26s %8s\n" "$mtu" "${s:--}" "${k:--}" "$r"
done
rm -f /tmp/sk_sink.$$ /tmp/sk_src.$$ /tmp/sk_fwd.$$
