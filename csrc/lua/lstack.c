/*
 * lstack.c — a stack as a Lua object: listen, connect, connections(),
 * stats(), trace(), close().  The same object serves simulated and live
 * stacks; its driver says what time it is and runs its callbacks.
 */
#include <string.h>

#include "../drive/uv.h"
#include "lsynack.h"

lstack *sk_lua_checkstack(lua_State *L, int idx) {
  lstack *ls = luaL_checkudata(L, idx, STACK_MT);
  if (!ls->st)
    luaL_error(L, "the stack has been closed");
  return ls;
}

static void stack_trace_hook(void *ctx, uint64_t now, int dir,
                             const uint8_t *pkt, size_t len) {
  ltrace *tr;
  for (tr = ((lstack *)ctx)->traces; tr; tr = tr->next)
    if (dir == SK_DIR_DROP)
      sk_lua_trace_drop(tr, (int)len);
    else
      sk_lua_trace_add(tr, now, dir == SK_DIR_IN ? 1 : 2, 0, pkt, len);
}

/* The userdata keeps the object at owner_idx (its network) alive. */
lstack *sk_lua_newstack(lua_State *L, sk_stack *st, ldriver *d, sk_sim *sim,
                        int owner_idx) {
  lstack *ls;
  owner_idx = lua_absindex(L, owner_idx);
  ls = lua_newuserdatauv(L, sizeof *ls, 1);
  memset(ls, 0, sizeof *ls);
  ls->st = st;
  ls->drv = d;
  ls->sim = sim;
  if (st)
    ls->addr = sk_stack_config(st)->addr;
  luaL_setmetatable(L, STACK_MT);
  lua_pushvalue(L, owner_idx);
  lua_setiuservalue(L, -2, 1);
  sk_lua_weakref_set(L, STACKS_REG, ls, -1);
  return ls;
}

/* ---- listen and connect -------------------------------------------------- */

static uint16_t checkport(lua_State *L, int idx) {
  lua_Integer p = luaL_checkinteger(L, idx);
  luaL_argcheck(L, p >= 1 && p <= 65535, idx, "port must be 1..65535");
  return (uint16_t)p;
}

static const char *const listen_extra[] = {"on_accept", NULL};

static int stack_listen(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  uint16_t port = checkport(L, 2);
  sk_config cfg = *sk_stack_config(ls->st);
  sk_listen_opts o;
  sk_listener *l;
  int err;
  if (!lua_isnoneornil(L, 3))
    luaL_checktype(L, 3, LUA_TTABLE);
  sk_lua_config(L, 3, OPT_LISTEN, &cfg, listen_extra);
  o.backlog = cfg.backlog;
  o.max_syn_backlog = cfg.max_syn_backlog;
  o.syncookies = cfg.syncookies;
  o.params = &cfg.params;
  if (!(l = sk_listen(ls->st, port, &o, &err)))
    return sk_lua_pusherr(L, err);
  sk_lua_newlistener(L, ls, l, lua_isnoneornil(L, 3) ? 0 : 3);
  return 1;
}

static const char *const connect_extra[] = {
    "local_port", "on_connect", "on_data",  "on_drain",
    "on_end",     "on_close",   "on_state", NULL};

static int stack_connect(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  uint32_t addr = sk_lua_checkaddr(L, 2, "address");
  uint16_t port = checkport(L, 3);
  sk_config cfg = *sk_stack_config(ls->st);
  sk_conn_opts o;
  sk_conn *c;
  int err, opts = lua_isnoneornil(L, 4) ? 0 : 4;
  memset(&o, 0, sizeof o);
  if (opts) {
    luaL_checktype(L, opts, LUA_TTABLE);
    sk_lua_config(L, opts, OPT_CONNECT, &cfg, connect_extra);
    if (lua_getfield(L, opts, "local_port") != LUA_TNIL)
      o.local_port = checkport(L, -1);
    lua_pop(L, 1);
  }
  o.params = &cfg.params;
  if (!(c = sk_connect(ls->st, ls->drv->now(ls->drv), addr, port, &o, &err)))
    return sk_lua_pusherr(L, err);
  sk_lua_newconn(L, ls, c, opts);
  return 1;
}

/* ---- what the stack knows ------------------------------------------------ */

static void push_row(void *ctx, const sk_info *info) {
  lua_State *L = ctx;
  sk_lua_pushinfo(L, info);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

static int stack_connections(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  lua_newtable(L);
  sk_stack_connections(ls->st, ls->drv->now(ls->drv), push_row, L);
  return 1;
}

static int stack_stats(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  const sk_stats *st = sk_stack_stats(ls->st);
  int i;
  lua_newtable(L);
#define X(n, d)                                                                \
  lua_pushinteger(L, (lua_Integer)st->n);                                      \
  lua_setfield(L, -2, #n);
  SK_COUNTERS(X)
  SK_GAUGES(X)
#undef X
  lua_createtable(L, 0, SK_DROP_COUNT); /* drops = { [reason] = n } */
  for (i = 0; i < SK_DROP_COUNT; i++) {
    lua_pushinteger(L, (lua_Integer)st->drops[i]);
    lua_setfield(L, -2, sk_drop_name(i));
  }
  lua_setfield(L, -2, "drops");
  if (ls->live) { /* a live stack's link layer counts too */
    const sk_eth_stats *es = sk_eth_stats_get(sk_uvdev_eth(ls->live));
#define X(n, d)                                                                \
  lua_pushinteger(L, (lua_Integer)es->n);                                      \
  lua_setfield(L, -2, #n);
    SK_ETH_COUNTERS(X)
#undef X
    lua_pushinteger(L, (lua_Integer)sk_uvdev_tx_drops(ls->live));
    lua_setfield(L, -2, "tx_drops");
  }
  return 1;
}

/* Puts a trace (or capture) on the stack's list of recorders. */
static void attach(lstack *ls, ltrace *tr) {
  if (!ls->traces)
    sk_stack_set_trace(ls->st, stack_trace_hook, ls);
  tr->next = ls->traces;
  ls->traces = tr;
  tr->owner = &ls->traces;
}

static int stack_trace(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  attach(ls, sk_lua_newtrace(L));
  return 1;
}

/* stack:pcap(path) -> capture | nil, err: every packet the stack sends and
 * receives from now on, written as it happens. */
static int stack_pcap(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  ltrace *tr = sk_lua_newcapture(L, luaL_checkstring(L, 2));
  if (!tr)
    return 2; /* nil, err */
  attach(ls, tr);
  return 1;
}

/* stack:send(segment): a segment built by the script (from this stack's
 * address unless `from` says otherwise), sent as the stack would send
 * one; no connection knows of it, so replies meet the stack's rules (a
 * SYN-ACK for no connection gets a RST, as from a kernel). */
static int stack_send(lua_State *L) {
  lstack *ls = sk_lua_checkstack(L, 1);
  size_t n;
  const uint8_t *pkt = sk_lua_segment_arg(L, 2, ls->addr, &n);
  sk_stack_send_raw(ls->st, ls->drv->now(ls->drv), pkt, n);
  return 0;
}

/* ---- closing ------------------------------------------------------------- */

/* Conn and listener objects of this stack lose their C objects, which
 * sk_stack_free is about to free. */
static void detach_objects(lua_State *L, lstack *ls) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "synack.objects") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lconn *lc = luaL_testudata(L, -1, CONN_MT);
    llistener *ll = luaL_testudata(L, -1, LISTENER_MT);
    if (lc && lc->ls == ls)
      lc->c = NULL;
    if (ll && ll->ls == ls)
      ll->l = NULL;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

void sk_lua_stack_close(lua_State *L, lstack *ls) {
  ltrace *tr;
  if (!ls->st)
    return;
  detach_objects(L, ls);
  for (tr = ls->traces; tr; tr = tr->next) {
    tr->attached = 0;
    tr->owner = NULL;
  }
  ls->traces = NULL;
  if (ls->sim)
    sk_sim_remove(ls->sim, ls->addr); /* frees the stack */
  else if (ls->live)
    sk_lua_live_close(ls); /* the device goes too */
  else
    sk_stack_free(ls->st);
  ls->st = NULL;
}

static int stack_close(lua_State *L) {
  lstack *ls = luaL_checkudata(L, 1, STACK_MT);
  if (!ls->st || ls->close_pending)
    return 0;
  if (ls->drv->dispatching) { /* inside one of our callbacks: later */
    ls->close_pending = 1;
    ls->close_next = ls->drv->closing;
    ls->drv->closing = ls;
    return 0;
  }
  sk_lua_stack_close(L, ls);
  return 0;
}

static int stack_gc(lua_State *L) {
  lstack *ls = luaL_checkudata(L, 1, STACK_MT);
  if (ls->live && ls->st && !ls->drv->dispatching)
    sk_lua_stack_close(L, ls);
  return 0;
}

static int stack_index(lua_State *L) {
  lstack *ls = luaL_checkudata(L, 1, STACK_MT);
  const char *k = lua_tostring(L, 2);
  if (k && strcmp(k, "addr") == 0) {
    sk_lua_pushaddr(L, ls->addr);
    return 1;
  }
  if (k && strcmp(k, "ifname") == 0) { /* a live stack's interface */
    if (ls->live)
      lua_pushstring(L, sk_lua_live_ifname(ls));
    else
      lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_gettable(L, lua_upvalueindex(1));
  return 1;
}

static int stack_tostring(lua_State *L) {
  lstack *ls = luaL_checkudata(L, 1, STACK_MT);
  sk_lua_pushaddr(L, ls->addr);
  lua_pushfstring(L, "synack.stack %s%s", lua_tostring(L, -1),
                  ls->st ? "" : " (closed)");
  return 1;
}

static const luaL_Reg methods[] = {{"listen", stack_listen},
                                   {"connect", stack_connect},
                                   {"connections", stack_connections},
                                   {"stats", stack_stats},
                                   {"trace", stack_trace},
                                   {"pcap", stack_pcap},
                                   {"send", stack_send},
                                   {"close", stack_close},
                                   {NULL, NULL}};

int sk_lua_open_stack(lua_State *L) {
  luaL_newmetatable(L, STACK_MT);
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_pushcclosure(L, stack_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, stack_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, stack_tostring);
  lua_setfield(L, -2, "__tostring");
  /* A simulated host belongs to its network, which keeps it alive and
   * frees it; a live stack let go is closed (its device goes). */
  lua_pushcfunction(L, stack_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  return 0;
}
