-- Shared set-ups for the specs: a fresh simulated network per test.
local synack = require "synack"

local H = {}

H.CLIENT, H.SERVER, H.PEER = "10.0.0.1", "10.0.0.2", "10.0.0.9"

--- A network with 10 ms one-way delay unless opts say otherwise.
function H.net(opts)
  opts = opts or {}
  if opts.seed == nil then opts.seed = 1 end
  if opts.delay == nil then opts.delay = 0.010 end
  return synack.sim(opts)
end

--- A network, a client stack and a server stack.
function H.pair(opts, client_cfg, server_cfg)
  local net = H.net(opts)
  return net, net:host(H.CLIENT, client_cfg), net:host(H.SERVER, server_cfg)
end

--- Writes `data` to conn now or, what does not fit, as the send buffer
-- drains; then closes (close) or half-closes (shutdown) if asked.
function H.writer(conn)
  local pending, closing = {}, nil
  local function flush(c)
    while #pending > 0 do
      local n = assert(c:write(pending[1]))
      if n < #pending[1] then
        pending[1] = pending[1]:sub(n + 1)
        return
      end
      table.remove(pending, 1)
    end
    if closing then c[closing](c) end
  end
  conn:on("drain", flush)
  return {
    write = function(data) pending[#pending + 1] = data; flush(conn) end,
    close = function() closing = "close"; flush(conn) end,
    shutdown = function() closing = "shutdown"; flush(conn) end,
  }
end

--- An echo server on port 80 of `server`; returns the listener.
function H.echo(server, port)
  return server:listen(port or 80, {
    on_accept = function(c)
      local w = H.writer(c)
      c:on("data", function(_, chunk) w.write(chunk) end)
      c:on("end", function() w.close() end)
    end,
  })
end

--- The scripted peer's side of a handshake with a listener on `stack`:
-- SYN, expect SYN-ACK, ACK. Returns the peer's ISN and the stack's ISN.
function H.peer_connect(net, peer, stack_addr, port, opts)
  opts = opts or {}
  local isn = opts.isn or 1000
  local sport = opts.sport or 40000
  peer:send{ to = stack_addr, sport = sport, dport = port, flags = "S", seq = isn,
             win = opts.win or 65535, options = opts.options or { mss = 1460 } }
  local synack_seg = peer:expect("S.", { ack = (isn + 1) & 0xffffffff })
  local ts = opts.options and opts.options.ts -- keep timestamps going
  peer:send{ to = stack_addr, sport = sport, dport = port, flags = ".", seq = isn + 1,
             ack = synack_seg.seq + 1, win = opts.win or 65535,
             options = ts and synack_seg.options.ts and { ts = { ts[1] + 1, synack_seg.options.ts[1] } } or nil }
  net:run(0.05) -- let the ACK arrive
  return isn, synack_seg.seq
end

--- A scripted peer's segment to H.SERVER port 80, from port 40000 (the
-- port of H.peer_connect) unless t.sport says otherwise.
function H.send(peer, t)
  t.to, t.sport, t.dport = H.SERVER, t.sport or 40000, 80
  peer:send(t)
end

--- Every segment that arrives at `peer` until `quiet` seconds (0.05 by
-- default) pass without one.
function H.drain(peer, quiet)
  local segs = {}
  while true do
    local s = peer:receive(quiet or 0.05)
    if not s then return segs end
    segs[#segs + 1] = s
  end
end

--- A stack at H.SERVER with a connection from a scripted peer at H.PEER,
-- established and accepted: net, stack, peer, conn, the peer's ISN and the
-- stack's ISN. `cfg` configures the stack, `opts` the handshake.
function H.accepted(cfg, opts)
  local net = H.net()
  local stack = net:host(H.SERVER, cfg)
  local peer = net:peer(H.PEER)
  local conn
  local listener = stack:listen(80, { on_accept = function(c) conn = c end })
  local isn, iss = H.peer_connect(net, peer, H.SERVER, 80, opts)
  assert(conn, "the connection was not accepted")
  return net, stack, peer, conn, isn, iss, listener
end

return H
