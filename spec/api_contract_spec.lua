-- The contract of ../shared/API.md, name by name: every module function,
-- every method of every object, every info field and stats counter.  A
-- name that goes missing fails here.
local synack = require "synack"
local H = require "helper"

local module_functions = { "sim", "tap", "raw", "run", "stop", "strerror", "spawn", "sleep" }
local methods = {
  sim = { "host", "peer", "impair", "run", "now", "trace" },
  stack = { "listen", "connect", "connections", "stats", "trace", "pcap", "close" },
  listener = { "on", "info", "close", "accept" },
  conn = { "on", "write", "read", "shutdown", "close", "abort", "info",
           "wait_connected", "receive", "send" },
  trace = { "flags", "ladder", "svg", "pcap", "clear" },
  peer = { "send", "send_raw", "receive" },
  capture = { "close" },
}
local info_fields = { "state", "local_addr", "local_port", "remote_addr", "remote_port", "iss", "irs",
  "snd_una", "snd_nxt", "snd_wnd", "rcv_nxt", "rcv_wnd", "mss", "snd_wscale", "rcv_wscale",
  "sack", "timestamps", "srtt", "rttvar", "rto", "cwnd", "ssthresh", "retransmits",
  "send_queue", "recv_queue", "ooo_bytes" }
local counters = { "segments_in", "segments_out", "retransmits", "bad_checksum", "malformed",
  "rst_sent", "rst_received", "challenge_acks", "syncookies_sent", "syncookies_valid",
  "syncookies_invalid", "listen_overflows", "ooo_segments", "time_wait", "time_wait_reused",
  "time_wait_overflow", "paws_drops", "memory" }
local errors = { "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ECONNABORTED", "EADDRINUSE",
  "EADDRNOTAVAIL", "ENOBUFS", "EPIPE", "EPERM" }
local config_keys = { msl = 30, syncookies = "auto", max_syn_backlog = 16, max_time_wait = 100,
  sndbuf = 4096, rcvbuf = 4096, mss = 1000, isn_secret = "s", sack = true, timestamps = true,
  wscale = 2, rfc1337 = true, rto_min = 0.2, rto_max = 120, syn_retries = 6, synack_retries = 5,
  retries = 15, delack = 0.04, challenge_ack_interval = 0.5, max_ooo_holes = 8,
  port_range = { 50000, 50100 } }
local impairments = { loss = 0, delay = 0.01, jitter = 0, duplicate = 0, reorder = 0, corrupt = 0,
  rate = 0 }
local states = { "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
  "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT" }

describe("API.md", function()
  it("has synack.version as MAJOR.MINOR.PATCH", function()
    assert.matches("^%d+%.%d+%.%d+$", synack.version)
  end)

  for _, name in ipairs(module_functions) do
    it("has synack." .. name, function()
      assert.is_function(synack[name])
    end)
  end

  it("has synack.segment.build and synack.segment.parse", function()
    assert.is_function(synack.segment.build)
    assert.is_function(synack.segment.parse)
  end)

  it("has the framing module", function()
    local framing = require "synack.framing"
    for _, name in ipairs { "length_prefixed", "delimited", "netstring" } do
      local codec = framing[name]{}
      assert.is_function(codec.encode)
      assert.is_function(codec.push)
    end
  end)

  it("has the Busted assertions", function()
    require "synack.assert"
    for _, name in ipairs { "segments", "handshake", "state" } do
      assert.has_no.errors(function() return assert[name] end)
    end
  end)

  for kind, list in pairs(methods) do
    it("has every method of " .. kind, function()
      local mt = require("synack.core").metatables[kind]
      for _, m in ipairs(list) do
        assert.is_function(mt.methods[m], kind .. ":" .. m)
      end
    end)
  end

  it("supports <close> on every object", function()
    for _, kind in ipairs { "sim", "stack", "listener", "conn", "capture" } do
      local mt = require("synack.core").metatables[kind]
      assert.is_function(mt.__close or mt.__gc, kind)
    end
  end)

  it("gives every info field", function()
    local _, _, _, conn = H.accepted()
    local info = conn:info()
    for _, f in ipairs(info_fields) do
      assert.is_not_nil(info[f], f)
    end
  end)

  it("counts every counter of stats()", function()
    local st = H.net():host(H.SERVER):stats()
    for _, c in ipairs(counters) do assert.is_number(st[c], c) end
  end)

  it("knows every error and its sentence", function()
    for _, e in ipairs(errors) do
      assert.is_string(synack.strerror(e))
      assert.are_not.equal(synack.strerror("ENOSUCH"), synack.strerror(e))
    end
  end)

  it("accepts every stack configuration key", function()
    local net = H.net()
    assert.truthy(net:host("10.0.3.1", config_keys))
  end)

  it("accepts every impairment", function()
    local net = synack.sim{ seed = 1, delay = 0.01, jitter = 0, loss = 0, duplicate = 0,
                            reorder = 0, corrupt = 0, rate = 0, mtu = 1500 }
    net:impair(impairments)
    net:impair("10.0.0.1", "10.0.0.2", impairments)
  end)

  it("names states as RFC 9293 does", function()
    local seen = {}
    for _, s in ipairs(states) do seen[s] = true end
    local net, a, b = H.pair()
    local l = b:listen(80)
    local c = a:connect(H.SERVER, 80, { on_state = function(_, new) assert.is_true(seen[new], new) end })
    assert.is_true(seen[c:info().state])
    assert.equal("LISTEN", l:info().state)
    net:run(0.1)
  end)
end)
