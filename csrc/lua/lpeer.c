/*
 * lpeer.c — a scripted peer: a host of the simulated network without a
 * TCP of its own.  The script sends exactly the segments it wants and
 * reads exactly what arrives, the way packetdrill scripts the kernel.
 */
#include <string.h>

#include "lsynack.h"

typedef struct lpeer {
  lsim *s;
  uint32_t addr;
} lpeer;

static lpeer *checkpeer(lua_State *L, int idx) {
  lpeer *p = luaL_checkudata(L, idx, PEER_MT);
  if (!p->s->sim)
    luaL_error(L, "the network has been closed");
  return p;
}

int sk_lua_newpeer(lua_State *L, int sim_idx, lsim *s, uint32_t addr) {
  lpeer *p;
  sim_idx = lua_absindex(L, sim_idx);
  p = lua_newuserdatauv(L, sizeof *p, 1);
  p->s = s;
  p->addr = addr;
  luaL_setmetatable(L, PEER_MT);
  lua_pushvalue(L, sim_idx); /* keeps the network alive */
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* peer:send(segment): from defaults to the peer's address. */
static int peer_send(lua_State *L) {
  lpeer *p = checkpeer(L, 1);
  size_t n;
  const uint8_t *pkt = sk_lua_segment_arg(L, 2, p->addr, &n);
  sk_sim_send(p->s->sim, p->addr, pkt, n);
  return 0;
}

/* peer:send_raw(bytes): anything at all, as an IPv4 packet. */
static int peer_send_raw(lua_State *L) {
  lpeer *p = checkpeer(L, 1);
  size_t n;
  const char *b = luaL_checklstring(L, 2, &n);
  luaL_argcheck(L, n <= 65535, 2, "at most 65535 bytes");
  sk_sim_send(p->s->sim, p->addr, (const uint8_t *)b, n);
  return 0;
}

static int queued(lua_State *L, void *ctx) {
  lpeer *p = ctx;
  (void)L;
  return sk_sim_peer_queued(p->s->sim, p->addr) > 0;
}

/* peer:receive([max_seconds]): the oldest packet queued for the peer,
 * running the network until one arrives, max_seconds pass, or nothing is
 * left to happen. */
static int peer_receive(lua_State *L) {
  lpeer *p = checkpeer(L, 1);
  uint64_t until = SK_NEVER, when;
  uint8_t *buf;
  size_t n;
  if (!lua_isnoneornil(L, 2))
    until = sk_sim_now(p->s->sim) +
            sk_lua_usec(sk_lua_checkseconds(L, 2, "max_seconds"));
  lua_settop(L, 1);
  if (!queued(L, p))
    sk_lua_sim_run(L, p->s, until, queued, p);
  buf = lua_newuserdatauv(L, 65536, 0);
  if (!(n = sk_sim_peer_recv(p->s->sim, p->addr, buf, 65536, &when)))
    return 0;
  sk_lua_pushsegment(L, buf, n);
  lua_pushnumber(L, (double)when / 1e6);
  lua_setfield(L, -2, "t");
  return 1;
}

static int peer_pending(lua_State *L) { /* packets queued, unread */
  lpeer *p = checkpeer(L, 1);
  lua_pushinteger(L, (lua_Integer)sk_sim_peer_queued(p->s->sim, p->addr));
  return 1;
}

static int peer_index(lua_State *L) {
  lpeer *p = luaL_checkudata(L, 1, PEER_MT);
  const char *k = lua_tostring(L, 2);
  if (k && strcmp(k, "addr") == 0) {
    sk_lua_pushaddr(L, p->addr);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_gettable(L, lua_upvalueindex(1));
  return 1;
}

static const luaL_Reg methods[] = {{"send", peer_send},
                                   {"send_raw", peer_send_raw},
                                   {"receive", peer_receive},
                                   {"pending", peer_pending},
                                   {NULL, NULL}};

int sk_lua_open_peer(lua_State *L) {
  luaL_newmetatable(L, PEER_MT);
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_pushcclosure(L, peer_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  return 0;
}
