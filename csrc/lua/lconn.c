/*
 * lconn.c — a connection as a Lua object: write, read, shutdown, close,
 * abort, info, and event handlers (conn:on, on_* options).
 *
 * Events are queued by the core and delivered here after it returns, each
 * handler through a protected call with a traceback: a script error is
 * raised from run() and never unwinds through the stack's C code.
 */
#include <string.h>

#include "lsynack.h"

/* The largest chunk a "data" handler gets.  Each is a new string the
 * collector frees later; 16 KiB keeps the memory they cycle through in
 * cache (bench/echo.lua: 0.74x of C at 64 KiB, 0.83x at 16 KiB). */
#define READ_CHUNK 16384

/* Handler names, indexed by SK_EV_*: one list with synack.h's events. */
static const char *const event_names[] = {
#define X(n, s) s,
    SK_EVENTS(X)
#undef X
};

static lconn *checkconn(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, CONN_MT);
}

static uint64_t now_of(lconn *lc) { return lc->ls->drv->now(lc->ls->drv); }

/* Pushes the handler for `name`, or nothing and returns 0. */
static int get_handler(lua_State *L, int ud, const char *name) {
  lua_getiuservalue(L, ud, 1);
  if (lua_getfield(L, -1, name) == LUA_TFUNCTION) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 2);
  return 0;
}

static int has_handlers(lua_State *L, int ud) {
  int any;
  lua_getiuservalue(L, ud, 1);
  lua_pushnil(L);
  any = lua_next(L, -2);
  lua_pop(L, any ? 3 : 1);
  return any;
}

/* A conn with handlers stays alive until its "close" has been delivered,
 * or with a "state" handler until it is CLOSED (TIME-WAIT ends in a state
 * change); one without can be collected (and is then closed). */
static void update_anchor(lua_State *L, int ud, lconn *lc) {
  int state = lc->c ? sk_conn_state(lc->c) : SK_CLOSED, watched = 0;
  if (state != SK_CLOSED && lc->closed_seen && get_handler(L, ud, "state")) {
    lua_pop(L, 1);
    watched = 1;
  }
  sk_lua_anchor(L, ud,
                (lc->c && !lc->closed_seen && has_handlers(L, ud)) || watched);
}

/* ---- event delivery ------------------------------------------------------ */

/* Pushes up to max received bytes as a string and returns what
 * sk_conn_read returned.  When they lie together in the receive buffer
 * the string is made straight from it (one copy); when they wrap, through
 * a buffer.  Making a string may run the collector, and a finalizer may
 * read from this connection or close its stack: what was peeked is
 * consumed only if it is still there. */
static ptrdiff_t push_received(lua_State *L, lconn *lc, size_t max) {
  luaL_Buffer b;
  ptrdiff_t got;
  char *q;
  size_t ready;
  for (;;) {
    size_t n, again;
    const char *p = sk_conn_peek(lc->c, &n);
    ready = sk_conn_readable(lc->c);
    if (n < max && n < ready)
      break; /* they wrap */
    if (n > max)
      n = max;
    lua_pushlstring(L, p, n);
    if (!lc->c)
      return SK_ENOTCONN;
    if (sk_conn_peek(lc->c, &again) == p && again >= n)
      return sk_conn_read(lc->c, now_of(lc), NULL, n);
    lua_pop(L, 1); /* read meanwhile: once more */
  }
  if (max > ready)
    max = ready;
  q = luaL_buffinitsize(L, &b, max);
  if (!lc->c) {
    luaL_pushresultsize(&b, 0);
    return SK_ENOTCONN;
  }
  got = sk_conn_read(lc->c, now_of(lc), q, max);
  luaL_pushresultsize(&b, got > 0 ? (size_t)got : 0);
  return got;
}

static void deliver_data(lua_State *L, lconn *lc, int ud) {
  ldriver *d = lc->ls->drv;
  for (;;) {
    ptrdiff_t n;
    size_t want;
    if (!lc->c || !sk_conn_readable(lc->c) || !get_handler(L, ud, "data"))
      return;
    sk_conn_peek(lc->c, &want); /* what lies together: one copy */
    if (want > READ_CHUNK)
      want = READ_CHUNK;
    n = push_received(L, lc, want);
    if (n <= 0) {
      lua_pop(L, 2);
      return;
    }
    lua_pushvalue(L, ud);
    lua_insert(L, -2); /* handler, conn, chunk */
    if (!sk_lua_pcall(L, d, 2, 0))
      return;
  }
}

static void deliver_state(lua_State *L, lconn *lc, int ud, int arg) {
  if (!get_handler(L, ud, "state"))
    return;
  lua_pushvalue(L, ud);
  lua_pushstring(L, sk_state_name(arg & 0xff));
  lua_pushstring(L, sk_state_name(arg >> 8));
  lua_pushnumber(L, (double)sk_conn_state_time(lc->c) / 1e6);
  sk_lua_pcall(L, lc->ls->drv, 4, 0);
}

static void deliver_close(lua_State *L, lconn *lc, int ud, int arg) {
  lc->closed_seen = 1;
  if (!get_handler(L, ud, "close"))
    return;
  lua_pushvalue(L, ud);
  if (arg == SK_OK)
    lua_pushnil(L);
  else
    lua_pushstring(L, sk_errname(arg));
  sk_lua_pcall(L, lc->ls->drv, 2, 0);
}

/* Runs protected (see conn_event): lc, event, arg. */
static int deliver(lua_State *L) {
  lconn *lc = lua_touserdata(L, 1);
  int ev = (int)lua_tointeger(L, 2), arg = (int)lua_tointeger(L, 3), ud;
  if (!sk_lua_weakref_get(L, NULL, lc)) /* being collected */
    return 0;
  ud = lua_gettop(L);
  switch (ev) {
  case SK_EV_READABLE:
    deliver_data(L, lc, ud);
    break;
  case SK_EV_STATE:
    deliver_state(L, lc, ud, arg);
    break;
  case SK_EV_CLOSED:
    deliver_close(L, lc, ud, arg);
    break;
  default:
    if (get_handler(L, ud, event_names[ev])) {
      lua_pushvalue(L, ud);
      sk_lua_pcall(L, lc->ls->drv, 1, 0);
    }
  }
  lua_settop(L, ud);
  /* A task waiting on this conn (synack.task) hears of every event. */
  if (get_handler(L, ud, SK_LUA_WAKE)) {
    lua_pushvalue(L, ud);
    lua_pushstring(L, event_names[ev]);
    if (ev == SK_EV_CLOSED && arg != SK_OK)
      lua_pushstring(L, sk_errname(arg));
    else
      lua_pushnil(L);
    sk_lua_pcall(L, lc->ls->drv, 3, 0);
    lua_settop(L, ud);
  }
  /* what keeps it alive changes with its state, and with conn:on (which
   * sees to it itself) */
  if (ev == SK_EV_STATE || ev == SK_EV_CLOSED)
    update_anchor(L, ud, lc);
  return 0;
}

/* core.set_waker(conn | listener, fn | nil): the hook synack.task uses to
 * learn of events without taking the place of the script's handlers. */
int sk_lua_set_waker(lua_State *L) {
  lconn *lc = luaL_testudata(L, 1, CONN_MT);
  if (!lc && !luaL_testudata(L, 1, LISTENER_MT))
    return luaL_argerror(L, 1, "a connection or a listener expected");
  if (!lua_isnil(L, 2))
    luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, SK_LUA_WAKE);
  lua_settop(L, 1);
  if (lc)
    update_anchor(L, 1, lc);
  else
    sk_lua_listener_anchor(L, 1);
  return 0;
}

/* The core's callback.  Everything that touches Lua runs inside a
 * protected call, so even a memory error stays on this side. */
static void conn_event(void *p, int ev, int arg) {
  lconn *lc = p;
  ldriver *d = lc->ls->drv;
  lua_State *L = d->L;
  if (!L || !lua_checkstack(L, 8))
    return;
  lua_pushcfunction(L, deliver);
  lua_pushlightuserdata(L, lc);
  lua_pushinteger(L, ev);
  lua_pushinteger(L, arg);
  sk_lua_pcall(L, d, 3, 0);
}

/* ---- creation ------------------------------------------------------------ */

static const struct {
  const char *option, *event;
} option_events[] = {{"on_connect", "connect"},
                     {"on_data", "data"},
                     {"on_drain", "drain"},
                     {"on_end", "end"},
                     {"on_close", "close"},
                     {"on_state", "state"},
                     {NULL, NULL}};

/* Pushes a new conn object for c, with the handlers among the options at
 * opts (0: none). */
lconn *sk_lua_newconn(lua_State *L, lstack *ls, sk_conn *c, int opts) {
  lconn *lc;
  int i, ud;
  if (opts)
    opts = lua_absindex(L, opts);
  lc = lua_newuserdatauv(L, sizeof *lc, 2);
  ud = lua_gettop(L);
  memset(lc, 0, sizeof *lc);
  lc->c = c;
  lc->ls = ls;
  luaL_setmetatable(L, CONN_MT);
  lua_newtable(L);
  for (i = 0; opts && option_events[i].option; i++) {
    if (lua_getfield(L, opts, option_events[i].option) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (!lua_isfunction(L, -1))
      luaL_error(L, "bad option '%s' (a function expected)",
                 option_events[i].option);
    lua_setfield(L, -2, option_events[i].event);
  }
  lua_setiuservalue(L, ud, 1);
  if (sk_lua_weakref_get(L, STACKS_REG, ls)) /* the conn keeps it alive */
    lua_setiuservalue(L, ud, 2);
  sk_lua_weakref_set(L, NULL, lc, ud);
  sk_conn_set_callback(c, conn_event, lc);
  update_anchor(L, ud, lc);
  return lc;
}

/* ---- methods ------------------------------------------------------------- */

static int conn_on(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  const char *name = luaL_checkstring(L, 2);
  int ev;
  for (ev = 0; ev < SK_EV_COUNT; ev++)
    if (ev != SK_EV_ACCEPT && strcmp(event_names[ev], name) == 0)
      break;
  if (ev == SK_EV_COUNT)
    return luaL_argerror(L, 2,
                         lua_pushfstring(L,
                                         "unknown event '%s' (connect, "
                                         "data, drain, end, close, state)",
                                         name));
  if (!lua_isnil(L, 3))
    luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, name);
  update_anchor(L, 1, lc);
  /* data already buffered, or a FIN already in, is told to a new handler */
  if (lc->c && !lua_isnil(L, 3) &&
      (ev == SK_EV_READABLE || ev == SK_EV_PEER_FIN))
    sk_conn_rearm(lc->c, ev);
  lua_settop(L, 1);
  return 1;
}

/* conn:write(data [, i [, j]]): data:sub(i, j) without making it (as
 * LuaSocket's send), so a writer can go on from where a short write
 * stopped. */
static int conn_write(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  size_t len;
  const char *p = luaL_checklstring(L, 2, &len);
  lua_Integer i = luaL_optinteger(L, 3, 1), j = luaL_optinteger(L, 4, -1);
  ptrdiff_t n;
  if (i < 0)
    i = (lua_Integer)len + i + 1;
  if (j < 0)
    j = (lua_Integer)len + j + 1;
  if (i < 1)
    i = 1;
  if (j > (lua_Integer)len)
    j = (lua_Integer)len;
  if (!lc->c)
    return sk_lua_pusherr(L, SK_ENOTCONN);
  if (i > j) {
    lua_pushinteger(L, 0);
    return 1;
  }
  n = sk_conn_write(lc->c, now_of(lc), p + i - 1, (size_t)(j - i + 1));
  if (n < 0)
    return sk_lua_pusherr(L, (int)n);
  lua_pushinteger(L, n);
  return 1;
}

static int conn_read(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  lua_Integer max = luaL_optinteger(L, 2, 0);
  ptrdiff_t n;
  luaL_argcheck(L, max >= 0, 2, "must be >= 0");
  if (!lc->c)
    return sk_lua_pusherr(L, SK_ENOTCONN);
  if (max == 0) /* everything buffered */
    max = (lua_Integer)sk_conn_readable(lc->c);
  n = push_received(L, lc, (size_t)max);
  if (n < 0)
    return sk_lua_pusherr(L, (int)n);
  return 1;
}

static int ok_or_err(lua_State *L, int err) {
  if (err != SK_OK)
    return sk_lua_pusherr(L, err);
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_shutdown(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  if (!lc->c)
    return sk_lua_pusherr(L, SK_ENOTCONN);
  return ok_or_err(L, sk_conn_shutdown(lc->c, now_of(lc)));
}

static int conn_close(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  if (lc->c)
    sk_conn_close(lc->c, now_of(lc));
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_abort(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  if (lc->c)
    sk_conn_abort(lc->c, now_of(lc));
  lua_pushboolean(L, 1);
  return 1;
}

static int conn_info(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  sk_info info;
  if (!lc->c) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "CLOSED");
    lua_setfield(L, -2, "state");
    return 1;
  }
  sk_conn_info(lc->c, now_of(lc), &info);
  sk_lua_pushinfo(L, &info);
  return 1;
}

/* Collection of an open connection closes it gracefully (a FIN, not a
 * RST); the stack finishes the close on its own. */
static int conn_gc(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  if (lc->c) {
    sk_conn_release(lc->c, now_of(lc));
    lc->c = NULL;
  }
  return 0;
}

static int conn_tostring(lua_State *L) {
  lconn *lc = checkconn(L, 1);
  sk_info i;
  if (!lc->c) {
    lua_pushliteral(L, "synack.conn (closed stack)");
    return 1;
  }
  sk_conn_info(lc->c, now_of(lc), &i);
  sk_lua_pushaddr(L, i.local_addr);
  sk_lua_pushaddr(L, i.remote_addr);
  lua_pushfstring(L, "synack.conn %s:%d > %s:%d (%s)", lua_tostring(L, -2),
                  (int)i.local_port, lua_tostring(L, -1), (int)i.remote_port,
                  sk_state_name(i.state));
  return 1;
}

static const luaL_Reg methods[] = {
    {"on", conn_on},       {"write", conn_write},
    {"read", conn_read},   {"shutdown", conn_shutdown},
    {"close", conn_close}, {"abort", conn_abort},
    {"info", conn_info},   {NULL, NULL}};

int sk_lua_open_conn(lua_State *L) {
  luaL_newmetatable(L, CONN_MT);
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, conn_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, conn_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, conn_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  return 0;
}

/* ---- info tables --------------------------------------------------------- */

#define SETI(f)                                                                \
  do {                                                                         \
    lua_pushinteger(L, (lua_Integer)info->f);                                  \
    lua_setfield(L, -2, #f);                                                   \
  } while (0)
#define SETS(f) /* microseconds to seconds */                                  \
  do {                                                                         \
    lua_pushnumber(L, (double)info->f / 1e6);                                  \
    lua_setfield(L, -2, #f);                                                   \
  } while (0)

static void set_wscale(lua_State *L, const char *k, int v) {
  if (v < 0)
    lua_pushboolean(L, 0);
  else
    lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

void sk_lua_pushinfo(lua_State *L, const sk_info *info) {
  lua_createtable(L, 0, 32);
  lua_pushstring(L, sk_state_name(info->state));
  lua_setfield(L, -2, "state");
  sk_lua_pushaddr(L, info->local_addr);
  lua_setfield(L, -2, "local_addr");
  sk_lua_pushaddr(L, info->remote_addr);
  lua_setfield(L, -2, "remote_addr");
  SETI(local_port);
  SETI(remote_port);
  SETI(iss);
  SETI(irs);
  SETI(snd_una);
  SETI(snd_nxt);
  SETI(snd_wnd);
  SETI(rcv_nxt);
  SETI(rcv_wnd);
  SETI(mss);
  set_wscale(L, "snd_wscale", info->snd_wscale);
  set_wscale(L, "rcv_wscale", info->rcv_wscale);
  lua_pushboolean(L, info->sack);
  lua_setfield(L, -2, "sack");
  lua_pushboolean(L, info->timestamps);
  lua_setfield(L, -2, "timestamps");
  SETS(srtt);
  SETS(rttvar);
  SETS(rto);
  SETI(cwnd);
  SETI(ssthresh);
  SETI(retransmits);
  SETI(send_queue);
  SETI(recv_queue);
  SETI(ooo_bytes);
  if (info->state == SK_LISTEN) {
    SETI(backlog);
    SETI(accept_queue);
    SETI(syn_queue);
    SETI(max_syn_backlog);
  }
  if (info->state == SK_TIME_WAIT)
    SETS(expires_in);
}
