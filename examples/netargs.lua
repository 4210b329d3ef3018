-- examples/netargs.lua: the device options the live examples share.
--
--   --tap NAME      a TAP interface of that name (default synack0), the
--                   kernel side at --peer (default 192.0.2.1/24)
--   --raw IFNAME    an existing interface, through AF_PACKET, instead
--   --addr A/LEN    synack's address (default 192.0.2.2/24)
--   --gateway G     for addresses off the link
--   --seconds S     how long to run at most (default: until done)
--   --wait S        wait that long after the device is up (so that a
--                   capture started on it sees everything)
--
-- Everything not an option is left in `rest`, in order.
local synack = require "synack"

local M = {}

function M.parse(args)
  local o = { tap = "synack0", addr = "192.0.2.2/24", peer = "192.0.2.1/24", rest = {} }
  local i = 1
  while i <= #args do
    local a = args[i]
    local key = a:match("^%-%-(%w+)$")
    if key then
      o[key] = args[i + 1]
      if o[key] == nil then error("option --" .. key .. " needs a value") end
      i = i + 2
    else
      o.rest[#o.rest + 1] = a
      i = i + 1
    end
  end
  o.seconds = tonumber(o.seconds)
  o.wait = tonumber(o.wait)
  return o
end

--- The stack the options ask for, or exits with the reason.
function M.stack(o, config)
  config = config or {}
  config.addr = o.addr
  config.gateway = o.gateway
  local stack, err, why
  if o.raw then
    config.ifname = o.raw
    stack, err, why = synack.raw(config)
  else
    config.name, config.peer_addr = o.tap, o.peer
    stack, err, why = synack.tap(config)
  end
  if not stack then
    io.stderr:write(("%s: %s (%s)\n"):format(err, why or "", synack.strerror(err)))
    os.exit(1)
  end
  if o.wait then synack.run(o.wait) end
  return stack
end

--- ss -tan, for a stack.
function M.ss(stack)
  print("State        Local Address:Port     Peer Address:Port")
  for _, r in ipairs(stack:connections()) do
    local peer = r.state == "LISTEN" and "*:*" or (r.remote_addr .. ":" .. r.remote_port)
    print(("%-12s %-22s %s"):format(r.state, r.local_addr .. ":" .. r.local_port, peer))
  end
end

return M
