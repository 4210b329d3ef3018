/*
 * llive.c — live stacks: synack.tap{}, synack.raw{}, and the libuv loop
 * that drives them (core.live_run, core.live_stop; synack.run and
 * synack.stop in lua/synack.lua add tasks around them).
 *
 * One loop per Lua state.  Callbacks run only inside live_run, as in the
 * simulator: input and timers that arrive outside it queue their events in
 * the stacks, and the next run delivers them.
 */
#include <stdio.h>
#include <string.h>

#include "../drive/uv.h"
#include "lsynack.h"

#define LIVE_REG "synack.live"
#define TICK_MS 10 /* the predicate is checked at least this often */

typedef struct llive {
  ldriver drv; /* first: the live driver */
  uv_loop_t loop;
  uv_timer_t tick;
  int stop;       /* synack.stop() was called */
  lstack *stacks; /* live stacks open */
} llive;

static uint64_t live_now(ldriver *d) {
  (void)d;
  return sk_uv_now();
}

/* At lua_close: the loop's own resources go (every live stack has been
 * closed by then: their objects were collected first). */
static int live_gc(lua_State *L) {
  llive *lv = lua_touserdata(L, 1);
  uv_close((uv_handle_t *)&lv->tick, NULL);
  uv_run(&lv->loop, UV_RUN_NOWAIT);
  uv_loop_close(&lv->loop);
  return 0;
}

/* The live driver of this Lua state, made on first use. */
static llive *getlive(lua_State *L) {
  llive *lv;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LIVE_REG) == LUA_TUSERDATA) {
    lv = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lv;
  }
  lua_pop(L, 1);
  lv = lua_newuserdatauv(L, sizeof *lv, 0);
  memset(lv, 0, sizeof *lv);
  lv->drv.now = live_now;
  lv->drv.err_ref = LUA_NOREF;
  if (uv_loop_init(&lv->loop) != 0)
    luaL_error(L, "cannot start the libuv loop");
  uv_timer_init(&lv->loop, &lv->tick);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, live_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, LIVE_REG);
  return lv;
}

/* ---- events -------------------------------------------------------------- */

static void close_deferred(lua_State *L, llive *lv) {
  while (lv->drv.closing) {
    lstack *ls = lv->drv.closing;
    lv->drv.closing = ls->close_next;
    ls->close_next = NULL;
    sk_lua_stack_close(L, ls);
  }
}

/* After input or timers: deliver the stack's events, inside a run. */
static void after_io(void *ud) {
  lstack *ls = ud;
  llive *lv = (llive *)ls->drv;
  if (!lv->drv.L || !ls->st)
    return;
  lv->drv.dispatching = 1;
  sk_stack_dispatch(ls->st);
  lv->drv.dispatching = 0;
  close_deferred(lv->drv.L, lv);
}

void sk_lua_live_close(lstack *ls) {
  llive *lv = (llive *)ls->drv;
  lstack **pp = &lv->stacks;
  while (*pp && *pp != ls)
    pp = &(*pp)->live_next;
  if (*pp)
    *pp = ls->live_next;
  sk_uvdev_close(ls->live);
  /* let libuv finish closing its handles now, the script may exit next
   * (inside a run, the loop does it itself: uv_run does not nest) */
  if (!lv->drv.running)
    uv_run(&lv->loop, UV_RUN_NOWAIT);
  /* ls->live stays set: the stack was live, and is now closed */
}

const char *sk_lua_live_ifname(const lstack *ls) {
  return ls->st ? sk_uvdev_dev(ls->live)->name : "";
}

static void count_row(void *ctx, const sk_info *info) {
  (void)info;
  ++*(int *)ctx;
}

/* Nothing left to wait for: no listener, connection, TIME-WAIT or timer in
 * any live stack. */
static int idle(llive *lv) {
  lstack *ls;
  for (ls = lv->stacks; ls; ls = ls->live_next) {
    int rows = 0;
    if (sk_stack_deadline(ls->st) != SK_NEVER)
      return 0;
    sk_stack_connections(ls->st, sk_uv_now(), count_row, &rows);
    if (rows)
      return 0;
  }
  return 1;
}

/* ---- synack.tap{} and synack.raw{} --------------------------------------- */

/* "192.0.2.2/24" -> address and netmask (a bare address: /32). */
static void checkcidr(lua_State *L, const char *s, const char *key,
                      uint32_t *addr, uint32_t *mask) {
  unsigned a, b, c, d, bits = 32;
  char extra;
  int n = sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &bits, &extra);
  if ((n != 4 && n != 5) || a > 255 || b > 255 || c > 255 || d > 255 ||
      bits > 32)
    luaL_error(L, "bad option '%s' (an address like \"192.0.2.2/24\" expected)",
               key);
  *addr = a << 24 | b << 16 | c << 8 | d;
  *mask = bits ? 0xffffffffu << (32 - bits) : 0;
}

static const char *optstring(lua_State *L, int idx, const char *key) {
  const char *s = NULL;
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "bad option '%s' (a string expected)", key);
    s = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  return s; /* the table keeps the string alive */
}

static void checkmac(lua_State *L, const char *s, uint8_t mac[6]) {
  unsigned m[6];
  char extra;
  int i;
  if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
             &extra) != 6)
    luaL_error(L, "bad option 'mac' (\"02:00:00:00:00:01\" expected)");
  for (i = 0; i < 6; i++) {
    if (m[i] > 255)
      luaL_error(L, "bad option 'mac' (\"02:00:00:00:00:01\" expected)");
    mac[i] = (uint8_t)m[i];
  }
  if (mac[0] & 1)
    luaL_error(L, "bad option 'mac' (a unicast address expected)");
}

static const char *const tap_keys[] = {"name", "addr", "peer_addr", "gateway",
                                       "mac",  "mtu",  NULL};
static const char *const raw_keys[] = {
    "ifname", "addr", "gateway", "mac", "mtu", "promiscuous", NULL};

/* nil, "ENAME", sentence */
static int push_fail(lua_State *L, int err, const char *why) {
  lua_pushnil(L);
  lua_pushstring(L, sk_errname(err));
  lua_pushstring(L, why);
  return 3;
}

static int open_live(lua_State *L, int kind) {
  llive *lv;
  sk_config cfg;
  sk_eth_config ec;
  sk_dev dev;
  sk_uvdev *u;
  lstack *ls;
  uint32_t mask = 0, kaddr = 0, kmask = 0, gmask;
  const char *s;
  char why[256];
  int err, mtu = 1500, isint;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lv = getlive(L);
  sk_config_init(&cfg);
  sk_eth_config_init(&ec);
  if (!(s = optstring(L, 1, "addr")))
    return luaL_error(L, "bad option 'addr' (the stack's address, like "
                         "\"192.0.2.2/24\", is needed)");
  checkcidr(L, s, "addr", &cfg.addr, &mask);
  ec.netmask = mask;
  if ((s = optstring(L, 1, "gateway")))
    checkcidr(L, s, "gateway", &ec.gateway, &gmask);
  if ((s = optstring(L, 1, "mac")))
    checkmac(L, s, ec.mac);
  else
    sk_eth_random_mac(ec.mac);
  if (lua_getfield(L, 1, "mtu") != LUA_TNIL) {
    mtu = (int)lua_tointegerx(L, -1, &isint);
    if (!isint || mtu < 576 || mtu > 65535)
      return luaL_error(L, "bad option 'mtu' (576..65535 expected)");
  }
  lua_pop(L, 1);
  if (kind == SK_DEV_TAP && (s = optstring(L, 1, "peer_addr"))) {
    checkcidr(L, s, "peer_addr", &kaddr, &kmask);
    if (kaddr == cfg.addr)
      return push_fail(L, SK_EINVAL, "addr and peer_addr are the same");
  }
  if (sk_random(cfg.secret, sizeof cfg.secret) != SK_OK)
    return push_fail(L, SK_EINVAL, "getrandom(2) failed: no secret");
  cfg.params.mss = (uint16_t)(mtu - 40);
  sk_lua_config(L, 1, OPT_STACK, &cfg,
                kind == SK_DEV_TAP ? tap_keys : raw_keys);
  if (sk_dev_kernel_has(cfg.addr)) {
    char a[16];
    snprintf(a, sizeof a, "%u.%u.%u.%u", cfg.addr >> 24, cfg.addr >> 16 & 255,
             cfg.addr >> 8 & 255, cfg.addr & 255);
    snprintf(why, sizeof why,
             "the kernel already has %s: it would answer for it too", a);
    return push_fail(L, SK_EADDRINUSE, why);
  }
  if (kind == SK_DEV_TAP) {
    s = optstring(L, 1, "name");
    err = sk_dev_tap(&dev, s ? s : "", kaddr, kmask, (uint32_t)mtu, why,
                     sizeof why);
  } else {
    int promisc;
    if (!(s = optstring(L, 1, "ifname")))
      return luaL_error(L, "bad option 'ifname' (the interface to bind to is "
                           "needed)");
    lua_getfield(L, 1, "promiscuous");
    promisc = lua_toboolean(L, -1);
    lua_pop(L, 1);
    err = sk_dev_packet(&dev, s, promisc, why, sizeof why);
    if (err == SK_OK && !optstring(L, 1, "mac"))
      memcpy(ec.mac, dev.mac, 6);
    if (err == SK_OK && lua_getfield(L, 1, "mtu") == LUA_TNIL) {
      mtu = (int)dev.mtu;
      cfg.params.mss = (uint16_t)(mtu - 40);
    }
    lua_settop(L, 1);
  }
  if (err != SK_OK)
    return push_fail(L, err, why);
  ec.mtu = (uint32_t)mtu;
  /* the userdata first, so that nothing can fail after the device is open */
  lua_getfield(L, LUA_REGISTRYINDEX, LIVE_REG); /* the stack keeps it */
  ls = sk_lua_newstack(L, NULL, &lv->drv, NULL, -1);
  lua_remove(L, -2);
  if (!(u = sk_uvdev_open(&lv->loop, &dev, &cfg, &ec, after_io, ls, &err))) {
    lua_pop(L, 1);
    return push_fail(L, err, "cannot start the device");
  }
  ls->st = sk_uvdev_stack(u);
  ls->live = u;
  ls->addr = cfg.addr;
  ls->live_next = lv->stacks;
  lv->stacks = ls;
  return 1;
}

static int l_tap(lua_State *L) { return open_live(L, SK_DEV_TAP); }
static int l_raw(lua_State *L) { return open_live(L, SK_DEV_PACKET); }

/* ---- the loop ------------------------------------------------------------ */

static void on_tick(uv_timer_t *h) { (void)h; }

/* live_run([predicate [, max_seconds]]) -> boolean [, "stopped"].  Runs
 * the loop until the predicate holds (checked after every wake-up and
 * every 10 ms: true), max_seconds pass (false) or synack.stop() is called
 * (false, "stopped"; a stop called outside a run ends the next one), or,
 * with neither, until no live stack has anything left to wait for. */
static int l_run(lua_State *L) {
  llive *lv = getlive(L);
  uint64_t until = SK_NEVER, start = sk_uv_now();
  int has_pred = lua_isfunction(L, 1), result = 0;
  if (!lua_isnoneornil(L, 1) && !has_pred)
    return luaL_argerror(L, 1, "a predicate function or nil");
  if (!lua_isnoneornil(L, 2))
    until = start + sk_lua_usec(sk_lua_checkseconds(L, 2, "max_seconds"));
  if (lv->drv.running)
    return luaL_error(L, "synack.run cannot be called from inside a callback "
                         "or from another synack.run");
  lua_settop(L, 1);
  lv->drv.running = 1;
  lv->drv.L = L;
  uv_timer_start(&lv->tick, on_tick, TICK_MS, TICK_MS);
  for (;;) {
    lstack *ls, *next;
    /* events queued while nothing ran, and timers of calls made since */
    for (ls = lv->stacks; ls; ls = next) {
      next = ls->live_next;
      after_io(ls);
    }
    for (ls = lv->stacks; ls; ls = ls->live_next)
      sk_uvdev_kick(ls->live);
    if (lv->drv.err_ref != LUA_NOREF)
      break;
    if (has_pred) {
      int ok;
      lua_pushvalue(L, 1);
      if (!sk_lua_pcall(L, &lv->drv, 0, 1))
        break;
      ok = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (ok) {
        result = 1;
        break;
      }
    } else if (until == SK_NEVER && idle(lv)) {
      result = 1;
      break;
    }
    if (lv->stop || sk_uv_now() >= until)
      break;
    uv_run(&lv->loop, UV_RUN_ONCE);
  }
  uv_timer_stop(&lv->tick);
  lv->drv.running = 0;
  lv->drv.L = NULL;
  sk_lua_raise_pending(L, &lv->drv);
  lua_pushboolean(L, result);
  if (lv->stop) { /* this run is over; the next one starts afresh */
    lv->stop = 0;
    lua_pushliteral(L, "stopped");
    return 2;
  }
  return 1;
}

static int l_stop(lua_State *L) {
  getlive(L)->stop = 1;
  return 0;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, (double)sk_uv_now() / 1e6);
  return 1;
}

void sk_lua_open_live(lua_State *L) {
  static const luaL_Reg fns[] = {{"tap", l_tap},      {"raw", l_raw},
                                 {"live_run", l_run}, {"live_stop", l_stop},
                                 {"live_now", l_now}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
