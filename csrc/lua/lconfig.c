/*
 * lconfig.c — option tables: stack configuration (net:host, synack.tap,
 * synack.raw) and the connect and listen options that override it.  One
 * table of keys says where each is allowed, its type and its range; an
 * unknown key or a bad value raises an error that names it.
 */
#include <stddef.h>
#include <string.h>

#include "lsynack.h"

enum kind {
  K_SECONDS,   /* a duration, stored as 32-bit microseconds */
  K_COUNT,     /* an integer of `width` bytes */
  K_BOOL,      /* a boolean, stored as one byte */
  K_WSCALE,    /* a shift 0..14, or false */
  K_KEEPALIVE, /* false, true, or { idle=, interval=, count= } */
  K_SECRET,    /* a string hashed into the 16-byte secret */
  K_PORTS,     /* { lo, hi } */
  K_COOKIES,   /* "auto", "always" or "never" */
};

#define ALL (OPT_STACK | OPT_HOST | OPT_CONNECT | OPT_LISTEN)
#define STACKS (OPT_STACK | OPT_HOST)
#define P(f) offsetof(sk_config, params.f), sizeof(((sk_params *)0)->f)
#define C(f) offsetof(sk_config, f), sizeof(((sk_config *)0)->f)

typedef struct keyspec {
  const char *name;
  int scope;
  enum kind kind;
  size_t off, width;
  double min, max;
} keyspec;

static const keyspec keys[] = {
    {"msl", ALL, K_SECONDS, P(msl), 0.000001, 2000},
    {"fin_timeout", ALL, K_SECONDS, P(fin_timeout), 0.000001, 4000},
    {"rto_min", ALL, K_SECONDS, P(rto_min), 0.000001, 4000},
    {"rto_max", ALL, K_SECONDS, P(rto_max), 0.000001, 4000},
    {"rto_initial", ALL, K_SECONDS, P(rto_initial), 0.000001, 4000},
    {"delack", ALL, K_SECONDS, P(delack), 0, 4000},
    {"sndbuf", ALL, K_COUNT, P(sndbuf), 1, 1 << 30},
    {"rcvbuf", ALL, K_COUNT, P(rcvbuf), 1, 1 << 30},
    {"mss", ALL, K_COUNT, P(mss), 64, 65495},
    {"syn_retries", ALL, K_COUNT, P(syn_retries), 0, 255},
    {"synack_retries", ALL, K_COUNT, P(synack_retries), 0, 255},
    {"retries", ALL, K_COUNT, P(retries), 0, 255},
    {"nodelay", ALL, K_BOOL, P(nodelay), 0, 1},
    {"timestamps", ALL, K_BOOL, P(timestamps), 0, 1},
    {"sack", ALL, K_BOOL, P(sack), 0, 1},
    {"wscale", ALL, K_WSCALE, P(wscale), 0, 14},
    {"keepalive", ALL, K_KEEPALIVE, 0, 0, 0, 0},
    {"challenge_ack_interval", ALL, K_SECONDS, P(challenge_ack_interval), 0,
     4000},
    {"max_ooo_holes", ALL, K_COUNT, P(max_ooo_holes), 1, 255},
    {"max_syn_backlog", STACKS | OPT_LISTEN, K_COUNT, C(max_syn_backlog), 1,
     1e7},
    {"backlog", STACKS | OPT_LISTEN, K_COUNT, C(backlog), 1, 1e7},
    {"isn_secret", STACKS, K_SECRET, 0, 0, 0, 0},
    {"port_range", STACKS, K_PORTS, 0, 0, 0, 0},
    {"syncookies", STACKS | OPT_LISTEN, K_COOKIES, 0, 0, 0, 0},
    {"rfc1337", STACKS, K_BOOL, C(rfc1337), 0, 1},
    {"max_time_wait", STACKS, K_COUNT, C(max_time_wait), 0, 1e8},
    {NULL, 0, 0, 0, 0, 0, 0}};

static const keyspec *find_key(const char *name) {
  const keyspec *k;
  for (k = keys; k->name; k++)
    if (strcmp(k->name, name) == 0)
      return k;
  return NULL;
}

static int in_list(const char *name, const char *const *list) {
  for (; list && *list; list++)
    if (strcmp(*list, name) == 0)
      return 1;
  return 0;
}

static int bad(lua_State *L, const char *key, const char *why) {
  return luaL_error(L, "bad option '%s' (%s)", key, why);
}

static lua_Integer checkcount(lua_State *L, const keyspec *k, int idx) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint)
    bad(L, k->name, "an integer expected");
  if ((double)v < k->min || (double)v > k->max)
    luaL_error(L, "bad option '%s' (must be between %d and %d)", k->name,
               (int)k->min, (int)k->max);
  return v;
}

static void put(sk_config *cfg, const keyspec *k, uint64_t v) {
  uint8_t *p = (uint8_t *)cfg + k->off;
  switch (k->width) {
  case 1:
    *(uint8_t *)p = (uint8_t)v;
    break;
  case 2:
    *(uint16_t *)p = (uint16_t)v;
    break;
  case 4:
    *(uint32_t *)p = (uint32_t)v;
    break;
  default:
    *(uint64_t *)p = v;
    break;
  }
}

/* Any string becomes 16 secret bytes (FNV-1a then splitmix, twice): equal
 * strings give equal secrets, which is all a reproducible stack needs. */
static void secret_from(const char *s, size_t n, uint8_t out[16]) {
  uint64_t h = 0xcbf29ce484222325ull, z;
  size_t i;
  int half, b;
  for (i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
  for (half = 0; half < 2; half++) {
    z = (h += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (b = 0; b < 8; b++)
      out[half * 8 + b] = (uint8_t)(z >> (8 * b));
  }
}

static void read_ports(lua_State *L, int idx, sk_config *cfg) {
  lua_Integer lo, hi;
  int ok1, ok2;
  if (!lua_istable(L, idx))
    bad(L, "port_range", "a table { lo, hi } expected");
  lua_rawgeti(L, idx, 1);
  lua_rawgeti(L, idx, 2);
  lo = lua_tointegerx(L, -2, &ok1);
  hi = lua_tointegerx(L, -1, &ok2);
  lua_pop(L, 2);
  if (!ok1 || !ok2 || lo < 1 || hi > 65535 || lo > hi)
    bad(L, "port_range", "{ lo, hi } with 1 <= lo <= hi <= 65535 expected");
  cfg->port_lo = (uint16_t)lo;
  cfg->port_hi = (uint16_t)hi;
}

/* keepalive = false | true | { idle =, interval =, count = } (RFC 1122
 * §4.2.3.6; defaults as Linux: 7200 s, 75 s, 9). */
static void read_keepalive(lua_State *L, int idx, sk_config *cfg) {
  sk_params *p = &cfg->params;
  static const char *const fields[] = {"idle", "interval", "count", NULL};
  double idle = 7200, interval = 75, v;
  lua_Integer count = 9;
  int isint;
  if (lua_isboolean(L, idx)) {
    p->keepalive_idle = lua_toboolean(L, idx) ? 7200000000u : 0;
    p->keepalive_interval = 75000000u;
    p->keepalive_count = 9;
    return;
  }
  if (!lua_istable(L, idx))
    bad(L, "keepalive", "false, true or { idle=, interval=, count= }");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *const *f = fields;
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    while (*f && strcmp(*f, k) != 0)
      f++;
    if (!*f)
      luaL_error(L, "bad option 'keepalive' (unknown field '%s')", k);
    lua_pop(L, 1);
  }
  if (lua_getfield(L, idx, "idle") != LUA_TNIL)
    idle = lua_tonumber(L, -1);
  if (lua_getfield(L, idx, "interval") != LUA_TNIL)
    interval = lua_tonumber(L, -1);
  if (lua_getfield(L, idx, "count") != LUA_TNIL) {
    count = lua_tointegerx(L, -1, &isint);
    if (!isint)
      count = -1;
  }
  lua_pop(L, 3);
  v = idle < interval ? idle : interval;
  if (!(v > 0) || idle > 4000 || interval > 4000 || count < 1 || count > 255)
    bad(L, "keepalive", "idle and interval in (0, 4000] s, count 1..255");
  p->keepalive_idle = (uint32_t)sk_lua_usec(idle);
  p->keepalive_interval = (uint32_t)sk_lua_usec(interval);
  p->keepalive_count = (uint8_t)count;
}

static void read_one(lua_State *L, const keyspec *k, int idx, sk_config *cfg) {
  size_t n = 0;
  const char *s = NULL;
  switch (k->kind) {
  case K_SECONDS: {
    double v;
    if (lua_type(L, idx) != LUA_TNUMBER)
      bad(L, k->name, "a number of seconds expected");
    v = lua_tonumber(L, idx);
    if (!(v >= k->min && v <= k->max))
      luaL_error(L, "bad option '%s' (must be between %f and %f seconds)",
                 k->name, k->min, k->max);
    put(cfg, k, sk_lua_usec(v));
    break;
  }
  case K_COUNT:
    put(cfg, k, (uint64_t)checkcount(L, k, idx));
    break;
  case K_BOOL:
    if (!lua_isboolean(L, idx))
      bad(L, k->name, "a boolean expected");
    put(cfg, k, (uint64_t)lua_toboolean(L, idx));
    break;
  case K_WSCALE:
    if (lua_isboolean(L, idx) && !lua_toboolean(L, idx))
      cfg->params.wscale = SK_WSCALE_OFF;
    else
      cfg->params.wscale = (int8_t)checkcount(L, k, idx);
    break;
  case K_KEEPALIVE:
    read_keepalive(L, idx, cfg);
    break;
  case K_SECRET:
    if (lua_type(L, idx) != LUA_TSTRING || !(s = lua_tolstring(L, idx, &n)) ||
        n == 0)
      bad(L, k->name, "a non-empty string expected");
    secret_from(s, n, cfg->secret);
    break;
  case K_PORTS:
    read_ports(L, idx, cfg);
    break;
  case K_COOKIES: {
    static const char *const modes[] = {"never", "auto", "always", NULL};
    const char *v = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : "";
    int i = 0;
    while (modes[i] && strcmp(modes[i], v) != 0)
      i++;
    if (!modes[i])
      bad(L, k->name, "\"auto\", \"always\" or \"never\" expected");
    cfg->syncookies = (uint8_t)(SK_SYNCOOKIES_NEVER + i);
    break;
  }
  }
}

void sk_lua_check_keys(lua_State *L, int idx, int scope,
                       const char *const *extra) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *name;
    const keyspec *k;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "bad option (keys must be strings, got a %s)",
                 luaL_typename(L, -2));
    name = lua_tostring(L, -2);
    k = find_key(name);
    if (!in_list(name, extra) && (!k || !(k->scope & scope)))
      luaL_error(L, "unknown option '%s'", name);
    lua_pop(L, 1);
  }
}

void sk_lua_config(lua_State *L, int idx, int scope, sk_config *cfg,
                   const char *const *extra) {
  const keyspec *k;
  if (lua_isnoneornil(L, idx))
    return;
  luaL_checktype(L, idx, LUA_TTABLE);
  idx = lua_absindex(L, idx);
  sk_lua_check_keys(L, idx, scope, extra);
  for (k = keys; k->name; k++) {
    if (!(k->scope & scope))
      continue;
    if (lua_getfield(L, idx, k->name) != LUA_TNIL)
      read_one(L, k, lua_gettop(L), cfg);
    lua_pop(L, 1);
  }
  if (cfg->params.rto_min > cfg->params.rto_max)
    luaL_error(L, "bad option 'rto_min' (greater than rto_max)");
}
