/*
 * lsynack.c — the synack.core module: its functions, and helpers the
 * binding files share (errors, addresses, registry tables, callbacks).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lsynack.h"

#define OBJECTS "synack.objects" /* weak: C pointer -> userdata */
#define ANCHORS "synack.anchors" /* strong: userdata -> true */

/* ---- callbacks ----------------------------------------------------------- */

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) { /* an error object that is not a string */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg =
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function below the nargs arguments on top of the stack, with a
 * traceback.  An error is kept to be raised from run() (the first one
 * wins) and never unwinds through the stack's C code. */
int sk_lua_pcall(lua_State *L, ldriver *d, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs, rc;
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  rc = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (rc == LUA_OK)
    return 1;
  if (d->err_ref == LUA_NOREF)
    d->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  else
    lua_pop(L, 1);
  return 0;
}

void sk_lua_raise_pending(lua_State *L, ldriver *d) {
  if (d->err_ref == LUA_NOREF)
    return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, d->err_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, d->err_ref);
  d->err_ref = LUA_NOREF;
  lua_error(L);
}

/* ---- values -------------------------------------------------------------- */

uint32_t sk_lua_checkaddr(lua_State *L, int idx, const char *what) {
  const char *s = luaL_checkstring(L, idx);
  unsigned a, b, c, d;
  char tail;
  if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 ||
      b > 255 || c > 255 || d > 255) {
    luaL_argerror(L, idx,
                  lua_pushfstring(L,
                                  "%s must be a dotted-quad IPv4 address, "
                                  "got '%s'",
                                  what, s));
  }
  return a << 24 | b << 16 | c << 8 | d;
}

void sk_lua_pushaddr(lua_State *L, uint32_t addr) {
  lua_pushfstring(L, "%d.%d.%d.%d", (int)(addr >> 24), (int)(addr >> 16 & 255),
                  (int)(addr >> 8 & 255), (int)(addr & 255));
}

int sk_lua_pusherr(lua_State *L, int err) {
  const char *name = sk_errname(err);
  lua_pushnil(L);
  lua_pushstring(L, name ? name : "EINVAL");
  return 2;
}

double sk_lua_checkseconds(lua_State *L, int idx, const char *what) {
  double s;
  if (!lua_isnumber(L, idx))
    luaL_argerror(L, idx,
                  lua_pushfstring(L, "%s must be a number of seconds", what));
  s = lua_tonumber(L, idx);
  if (!(s >= 0) || s > 1e12) /* also refuses NaN */
    luaL_argerror(L, idx, lua_pushfstring(L, "%s must be >= 0 seconds", what));
  return s;
}

uint64_t sk_lua_usec(double seconds) {
  return (uint64_t)llround(seconds * 1e6);
}

/* ---- registry tables ----------------------------------------------------- */

static void push_regtable(lua_State *L, const char *name, const char *mode) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, name) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  if (mode) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, name);
}

/* The userdata for a C object, so a callback can hand the same Lua object
 * to the script each time.  Weak, so it never keeps the object alive. */
void sk_lua_weakref_set(lua_State *L, const char *table, void *key, int idx) {
  idx = lua_absindex(L, idx);
  push_regtable(L, table ? table : OBJECTS, "v");
  lua_pushlightuserdata(L, key);
  if (idx)
    lua_pushvalue(L, idx);
  else
    lua_pushnil(L);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

int sk_lua_weakref_get(lua_State *L, const char *table, void *key) {
  push_regtable(L, table ? table : OBJECTS, "v");
  lua_rawgetp(L, -1, key);
  lua_remove(L, -2);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Connections and listeners with handlers stay alive while open even when
 * the script keeps no reference: a server's accepted conns are often only
 * reachable from their own callbacks. */
void sk_lua_anchor(lua_State *L, int idx, int on) {
  idx = lua_absindex(L, idx);
  push_regtable(L, ANCHORS, NULL);
  lua_pushvalue(L, idx);
  if (on)
    lua_pushboolean(L, 1);
  else
    lua_pushnil(L);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* ---- module functions ---------------------------------------------------- */

static int l_strerror(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  int code = sk_errcode(name);
  if (code == SK_OK)
    lua_pushfstring(L, "unknown error '%s'", name);
  else
    lua_pushstring(L, sk_strerror(code));
  return 1;
}

static int l_errors(lua_State *L) { /* every error name, in order */
  int i = 1, code;
  lua_newtable(L);
  for (code = -1; sk_errname(code); code--) {
    lua_pushstring(L, sk_errname(code));
    lua_rawseti(L, -2, i++);
  }
  return 1;
}

static int l_counters(lua_State *L) { /* counter name -> its meaning */
  lua_newtable(L);
#define X(n, d)                                                                \
  lua_pushstring(L, d);                                                        \
  lua_setfield(L, -2, #n);
  SK_COUNTERS(X)
  SK_GAUGES(X)
#undef X
  return 1;
}

static int l_drops(lua_State *L) { /* drop reason -> the counter it adds to */
  lua_newtable(L);
#define X(n, s, c)                                                             \
  lua_pushstring(L, #c);                                                       \
  lua_setfield(L, -2, s);
  SK_DROPS(X)
#undef X
  return 1;
}

/* digest(data [, previous]) -> integer: 64-bit FNV-1a, chained over pieces,
 * for scripts that compare byte streams without keeping them.  Not a
 * cryptographic hash. */
static int l_digest(lua_State *L) {
  size_t n, i;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &n);
  uint64_t h =
      (uint64_t)luaL_optinteger(L, 2, (lua_Integer)0xcbf29ce484222325ull);
  for (i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  lua_pushinteger(L, (lua_Integer)h);
  return 1;
}

static const luaL_Reg funcs[] = {{"digest", l_digest},
                                 {"sim", sk_lua_sim_new},
                                 {"segment_build", sk_lua_segment_build},
                                 {"segment_parse", sk_lua_segment_parse},
                                 {"strerror", l_strerror},
                                 {"errors", l_errors},
                                 {"counters", l_counters},
                                 {"drops", l_drops},
                                 {"set_waker", sk_lua_set_waker},
                                 {NULL, NULL}};

int luaopen_synack_core(lua_State *L) {
  luaL_newlib(L, funcs);
  lua_pushstring(L, SK_VERSION);
  lua_setfield(L, -2, "version");
  sk_lua_open_sim(L);
  sk_lua_open_stack(L);
  sk_lua_open_listener(L);
  sk_lua_open_conn(L);
  sk_lua_open_peer(L);
  sk_lua_open_trace(L);
  sk_lua_open_live(L);
  /* the metatables, so the Lua side (lua/synack/) can add methods to
   * their `methods` tables */
  lua_createtable(L, 0, 6);
  {
    static const char *const mts[][2] = {
        {"sim", SIM_MT},        {"stack", STACK_MT}, {"listener", LISTENER_MT},
        {"conn", CONN_MT},      {"peer", PEER_MT},   {"trace", TRACE_MT},
        {"capture", CAPTURE_MT}};
    size_t i;
    for (i = 0; i < sizeof mts / sizeof mts[0]; i++) {
      luaL_getmetatable(L, mts[i][1]);
      lua_setfield(L, -2, mts[i][0]);
    }
  }
  lua_setfield(L, -2, "metatables");
  return 1;
}
