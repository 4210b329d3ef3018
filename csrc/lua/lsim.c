/*
 * lsim.c — the simulated network as a Lua object (synack.sim{}): hosts,
 * scripted peers, impairments, traces, and net:run, which drives virtual
 * time and delivers the stacks' events to Lua callbacks.
 */
#include <string.h>

#include "lsynack.h"

#define PEER_QUEUE_CAP 65536 /* packets a scripted peer holds unread */

static lsim *checksim(lua_State *L, int idx) {
  lsim *s = luaL_checkudata(L, idx, SIM_MT);
  if (!s->sim)
    luaL_error(L, "the network has been closed");
  return s;
}

static uint64_t sim_now(ldriver *d) { return sk_sim_now(((lsim *)d)->sim); }

static void sim_tap(void *ctx, uint64_t now, const uint8_t *pkt, size_t len,
                    int flags) {
  ltrace *tr;
  for (tr = ((lsim *)ctx)->traces; tr; tr = tr->next)
    sk_lua_trace_add(tr, now, 0, flags, pkt, len);
}

/* Impairment options: probabilities, durations and sizes, one table. */
static double probability(lua_State *L, const char *k) {
  double v = luaL_checknumber(L, -1);
  if (!(v >= 0 && v <= 1))
    luaL_error(L, "bad option '%s' (a probability between 0 and 1)", k);
  return v;
}

static lua_Integer whole(lua_State *L, const char *k, lua_Integer lo,
                         lua_Integer hi) {
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint || (v != 0 && (v < lo || v > hi)))
    luaL_error(L, "bad option '%s' (%d..%d, or 0 for none)", k, (int)lo,
               (int)hi);
  return v;
}

static void read_link(lua_State *L, int idx, sk_link *l, int with_seed) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    if (strcmp(k, "delay") == 0)
      l->delay = sk_lua_usec(sk_lua_checkseconds(L, -1, "delay"));
    else if (strcmp(k, "jitter") == 0)
      l->jitter = sk_lua_usec(sk_lua_checkseconds(L, -1, "jitter"));
    else if (strcmp(k, "loss") == 0)
      l->loss = probability(L, k);
    else if (strcmp(k, "duplicate") == 0)
      l->duplicate = probability(L, k);
    else if (strcmp(k, "reorder") == 0)
      l->reorder = probability(L, k);
    else if (strcmp(k, "corrupt") == 0)
      l->corrupt = probability(L, k);
    else if (strcmp(k, "rate") == 0) /* bits per second */
      l->rate = (uint64_t)whole(L, k, 1000, (lua_Integer)1 << 50);
    else if (strcmp(k, "queue") == 0) /* bytes */
      l->queue = (uint32_t)whole(L, k, 1500, 1 << 30);
    else if (strcmp(k, "mtu") == 0)
      l->mtu = (uint32_t)whole(L, k, 68, 65535);
    else if (!(with_seed && strcmp(k, "seed") == 0))
      luaL_error(L, "unknown option '%s'", k);
    lua_pop(L, 1);
  }
}

int sk_lua_sim_new(lua_State *L) {
  sk_link defaults;
  lua_Integer seed = 1;
  lsim *s;
  memset(&defaults, 0, sizeof defaults);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    read_link(L, 1, &defaults, 1);
    if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
      int isint;
      seed = lua_tointegerx(L, -1, &isint);
      if (!isint)
        luaL_error(L, "bad option 'seed' (an integer expected)");
    }
    lua_pop(L, 1);
  }
  s = lua_newuserdatauv(L, sizeof *s, 1);
  memset(s, 0, sizeof *s);
  s->drv.now = sim_now;
  s->drv.err_ref = LUA_NOREF;
  luaL_setmetatable(L, SIM_MT);
  if (!(s->sim = sk_sim_new((uint64_t)seed, &defaults)))
    return luaL_error(L, "not enough memory");
  sk_sim_set_tap(s->sim, sim_tap, s);
  lua_newtable(L); /* hosts: address -> stack or peer */
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* Puts the host object at the top of the stack into net's host table. */
static void remember_host(lua_State *L, int net, const char *addr) {
  lua_getiuservalue(L, net, 1);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, addr);
  lua_pop(L, 1);
}

static uint32_t new_host_addr(lua_State *L, lsim *s) {
  uint32_t addr = sk_lua_checkaddr(L, 2, "address");
  if (sk_sim_has_host(s->sim, addr))
    luaL_error(L, "address %s is already on this network", lua_tostring(L, 2));
  if (addr == 0 || addr == 0xffffffffu)
    luaL_argerror(L, 2, "not a host address");
  return addr;
}

static int sim_host(lua_State *L) {
  lsim *s = checksim(L, 1);
  uint32_t addr = new_host_addr(L, s);
  sk_config cfg;
  sk_stack *st;
  int err;
  sk_link l;
  sk_config_init(&cfg);
  cfg.addr = addr;
  sk_sim_secret(s->sim, addr, cfg.secret); /* reproducible from the seed */
  sk_sim_get_link(s->sim, 0, 0, &l);
  if (l.mtu && l.mtu - 40 < cfg.params.mss) /* the network's MTU decides */
    cfg.params.mss = (uint16_t)(l.mtu - 40);
  sk_lua_config(L, 3, OPT_HOST, &cfg, NULL);
  if (!(st = sk_sim_add_stack(s->sim, &cfg, &err)))
    return luaL_error(L, "cannot add host: %s", sk_strerror(err));
  sk_lua_newstack(L, st, &s->drv, s->sim, 1);
  remember_host(L, 1, lua_tostring(L, 2));
  return 1;
}

static int sim_peer(lua_State *L) {
  lsim *s = checksim(L, 1);
  uint32_t addr = new_host_addr(L, s);
  int err = sk_sim_add_peer(s->sim, addr, PEER_QUEUE_CAP);
  if (err != SK_OK)
    return luaL_error(L, "cannot add peer: %s", sk_strerror(err));
  sk_lua_newpeer(L, 1, s, addr);
  remember_host(L, 1, lua_tostring(L, 2));
  return 1;
}

/* net:impair([from, to,] opts): from and to may be "*" for any host. */
static uint32_t addr_or_any(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) == LUA_TSTRING && strcmp(lua_tostring(L, idx), "*") == 0)
    return 0;
  return sk_lua_checkaddr(L, idx, what);
}

static int sim_impair(lua_State *L) {
  lsim *s = checksim(L, 1);
  uint32_t from = 0, to = 0;
  int opts = 2;
  sk_link l;
  if (lua_gettop(L) >= 4) {
    from = addr_or_any(L, 2, "from");
    to = addr_or_any(L, 3, "to");
    opts = 4;
  }
  luaL_checktype(L, opts, LUA_TTABLE);
  sk_sim_get_link(s->sim, from, to, &l);
  read_link(L, opts, &l, 0);
  if (sk_sim_impair(s->sim, from, to, &l) != SK_OK)
    return luaL_error(L, "not enough memory");
  return 0;
}

/* Callbacks run inside sk_sim_dispatch; a stack closed from one of them
 * is closed once dispatch has returned. */
static void dispatch(lua_State *L, lsim *s) {
  s->drv.dispatching = 1;
  sk_sim_dispatch(s->sim);
  s->drv.dispatching = 0;
  while (s->drv.closing) {
    lstack *ls = s->drv.closing;
    s->drv.closing = ls->close_next;
    ls->close_next = NULL;
    sk_lua_stack_close(L, ls);
  }
}

#define SAME_INSTANT_MAX 64

int sk_lua_sim_run(lua_State *L, lsim *s, uint64_t until, sk_lua_stop_fn stop,
                   void *ctx) {
  int done = 0, i;
  if (s->drv.running)
    return luaL_error(L, "net:run cannot be called from inside a callback "
                         "or from another net:run");
  s->drv.running = 1;
  s->drv.L = L;
  dispatch(L, s); /* events of calls made since the last run */
  for (;;) {
    if (s->drv.err_ref != LUA_NOREF)
      break;
    if (stop && stop(L, ctx)) {
      done = 1;
      break;
    }
    if (s->drv.err_ref != LUA_NOREF || !sk_sim_step(s->sim, until))
      break;
    /* Packets that arrive at the same instant are taken together, and
     * the callbacks then see what they brought at once (bounded, so that
     * a burst cannot keep callbacks waiting long). */
    for (i = 0;
         i < SAME_INSTANT_MAX && sk_sim_next(s->sim) == sk_sim_now(s->sim) &&
         sk_sim_step(s->sim, until);
         i++)
      ;
    dispatch(L, s);
  }
  s->drv.running = 0;
  s->drv.L = NULL;
  sk_lua_raise_pending(L, &s->drv);
  return done;
}

/* A Lua predicate, checked after every event. */
static int lua_predicate(lua_State *L, void *ctx) {
  lsim *s = ctx;
  int ok;
  lua_pushvalue(L, 2);
  if (!sk_lua_pcall(L, &s->drv, 0, 1))
    return 0;
  ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ok;
}

/* net:run([seconds | predicate [, max_seconds]]) */
static int sim_run(lua_State *L) {
  lsim *s = checksim(L, 1);
  uint64_t now = sk_sim_now(s->sim), until = SK_NEVER;
  int done;
  switch (lua_type(L, 2)) {
  case LUA_TNONE:
  case LUA_TNIL:
    sk_lua_sim_run(L, s, SK_NEVER, NULL, NULL);
    lua_pushboolean(L, 1);
    return 1;
  case LUA_TNUMBER:
    until = now + sk_lua_usec(sk_lua_checkseconds(L, 2, "seconds"));
    sk_lua_sim_run(L, s, until, NULL, NULL);
    lua_pushboolean(L, 1);
    return 1;
  case LUA_TFUNCTION:
    if (!lua_isnoneornil(L, 3))
      until = now + sk_lua_usec(sk_lua_checkseconds(L, 3, "max_seconds"));
    lua_settop(L, 2);
    done = sk_lua_sim_run(L, s, until, lua_predicate, s);
    lua_pushboolean(L, done);
    return 1;
  default:
    return luaL_argerror(L, 2, "seconds, a predicate function or nothing");
  }
}

static int sim_now_l(lua_State *L) {
  lua_pushnumber(L, (double)sk_sim_now(checksim(L, 1)->sim) / 1e6);
  return 1;
}

static int sim_trace(lua_State *L) {
  lsim *s = checksim(L, 1);
  ltrace *tr = sk_lua_newtrace(L);
  tr->next = s->traces;
  s->traces = tr;
  tr->owner = &s->traces;
  return 1;
}

static int sim_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sk_sim_seed(checksim(L, 1)->sim));
  return 1;
}

static int sim_gc(lua_State *L) {
  lsim *s = luaL_checkudata(L, 1, SIM_MT);
  ltrace *tr;
  if (!s->sim)
    return 0;
  /* Stacks, listeners and conns of this net were created after it, so
   * Lua has finalized their objects already (reverse order of creation). */
  for (tr = s->traces; tr; tr = tr->next) {
    tr->attached = 0;
    tr->owner = NULL;
  }
  s->traces = NULL;
  sk_sim_free(s->sim);
  s->sim = NULL;
  if (s->drv.err_ref != LUA_NOREF)
    luaL_unref(L, LUA_REGISTRYINDEX, s->drv.err_ref);
  s->drv.err_ref = LUA_NOREF;
  return 0;
}

static const luaL_Reg methods[] = {{"host", sim_host},     {"peer", sim_peer},
                                   {"impair", sim_impair}, {"run", sim_run},
                                   {"now", sim_now_l},     {"trace", sim_trace},
                                   {"seed", sim_seed},     {NULL, NULL}};

int sk_lua_open_sim(lua_State *L) {
  luaL_newmetatable(L, SIM_MT);
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, sim_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  return 0;
}
