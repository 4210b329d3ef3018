/*
 * llistener.c — a listening port as a Lua object: on("accept"), accept(),
 * info(), close().  Without an accept handler, established connections
 * wait in the accept queue (at most `backlog`) for accept().
 */
#include <string.h>

#include "lsynack.h"

static llistener *checklistener(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LISTENER_MT);
}

static int has_field(lua_State *L, int ud, const char *name) {
  int yes;
  lua_getiuservalue(L, ud, 1);
  yes = lua_getfield(L, -1, name) == LUA_TFUNCTION;
  lua_pop(L, 2);
  return yes;
}

static int has_accept_handler(lua_State *L, int ud) {
  return has_field(L, ud, "accept");
}

/* Kept alive while something will take its connections: a handler or a
 * waiting task. */
void sk_lua_listener_anchor(lua_State *L, int ud) {
  llistener *ll = lua_touserdata(L, ud);
  sk_lua_anchor(
      L, ud,
      ll->l && (has_accept_handler(L, ud) || has_field(L, ud, SK_LUA_WAKE)));
}

/* Runs protected (see listener_event): ll. */
static int deliver(lua_State *L) {
  llistener *ll = lua_touserdata(L, 1);
  int ud;
  sk_conn *c;
  if (!sk_lua_weakref_get(L, NULL, ll))
    return 0;
  ud = lua_gettop(L);
  while (ll->l && has_accept_handler(L, ud) &&
         (c = sk_listener_accept(ll->l)) != NULL) {
    lua_getiuservalue(L, ud, 1);
    lua_getfield(L, -1, "accept");
    lua_remove(L, -2);
    sk_lua_newconn(L, ll->ls, c, 0);
    if (!sk_lua_pcall(L, ll->ls->drv, 1, 0))
      break;
  }
  if (ll->l && !has_accept_handler(L, ud) && has_field(L, ud, SK_LUA_WAKE)) {
    lua_getiuservalue(L, ud, 1);
    lua_getfield(L, -1, SK_LUA_WAKE);
    lua_remove(L, -2);
    lua_pushvalue(L, ud);
    lua_pushliteral(L, "accept");
    sk_lua_pcall(L, ll->ls->drv, 2, 0);
  }
  return 0;
}

static void listener_event(void *p, int ev, int arg) {
  llistener *ll = p;
  ldriver *d = ll->ls->drv;
  lua_State *L = d->L;
  (void)ev;
  (void)arg;
  if (!L || !lua_checkstack(L, 8))
    return;
  lua_pushcfunction(L, deliver);
  lua_pushlightuserdata(L, ll);
  sk_lua_pcall(L, d, 1, 0);
}

int sk_lua_newlistener(lua_State *L, lstack *ls, sk_listener *l, int opts) {
  llistener *ll = lua_newuserdatauv(L, sizeof *ll, 2);
  int ud = lua_gettop(L);
  memset(ll, 0, sizeof *ll);
  ll->l = l;
  ll->ls = ls;
  luaL_setmetatable(L, LISTENER_MT);
  lua_newtable(L);
  if (opts && lua_getfield(L, opts, "on_accept") != LUA_TNIL) {
    if (!lua_isfunction(L, -1))
      luaL_error(L, "bad option 'on_accept' (a function expected)");
    lua_setfield(L, -2, "accept");
  } else if (opts)
    lua_pop(L, 1);
  lua_setiuservalue(L, ud, 1);
  if (sk_lua_weakref_get(L, STACKS_REG, ls))
    lua_setiuservalue(L, ud, 2);
  sk_lua_weakref_set(L, NULL, ll, ud);
  sk_listener_set_callback(l, listener_event, ll);
  sk_lua_anchor(L, ud, has_accept_handler(L, ud));
  return 1;
}

static int listener_on(lua_State *L) {
  llistener *ll = checklistener(L, 1);
  const char *name = luaL_checkstring(L, 2);
  luaL_argcheck(L, strcmp(name, "accept") == 0, 2,
                "a listener has one event: 'accept'");
  if (!lua_isnil(L, 3))
    luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "accept");
  sk_lua_listener_anchor(L, 1);
  if (ll->l) /* connections already queued go to the new handler */
    sk_listener_set_callback(ll->l, listener_event, ll);
  lua_settop(L, 1);
  return 1;
}

static int listener_accept(lua_State *L) {
  llistener *ll = checklistener(L, 1);
  sk_conn *c;
  if (!ll->l || !(c = sk_listener_accept(ll->l)))
    return 0;
  sk_lua_newconn(L, ll->ls, c, 0);
  return 1;
}

static int listener_info(lua_State *L) {
  llistener *ll = checklistener(L, 1);
  sk_info info;
  if (!ll->l) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, "CLOSED");
    lua_setfield(L, -2, "state");
    return 1;
  }
  sk_listener_info(ll->l, &info);
  sk_lua_pushinfo(L, &info);
  return 1;
}

static int listener_close(lua_State *L) {
  llistener *ll = checklistener(L, 1);
  if (ll->l) {
    sk_listener_close(ll->l, ll->ls->drv->now(ll->ls->drv));
    ll->l = NULL;
  }
  sk_lua_anchor(L, 1, 0);
  return 0;
}

static int listener_tostring(lua_State *L) {
  llistener *ll = checklistener(L, 1);
  sk_info i;
  if (!ll->l) {
    lua_pushliteral(L, "synack.listener (closed)");
    return 1;
  }
  sk_listener_info(ll->l, &i);
  sk_lua_pushaddr(L, i.local_addr);
  lua_pushfstring(L, "synack.listener %s:%d", lua_tostring(L, -1),
                  (int)i.local_port);
  return 1;
}

static const luaL_Reg methods[] = {{"on", listener_on},
                                   {"accept", listener_accept},
                                   {"info", listener_info},
                                   {"close", listener_close},
                                   {NULL, NULL}};

int sk_lua_open_listener(lua_State *L) {
  luaL_newmetatable(L, LISTENER_MT);
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, listener_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, listener_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, listener_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  return 0;
}
