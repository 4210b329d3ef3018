/*
 * ltrace.c — trace objects: what net:trace() and stack:trace() record.
 * Packets are kept as bytes and parsed into segment tables when indexed;
 * lua/synack/trace.lua adds the formatting methods (tostring, flags).
 */
#include <stdlib.h>
#include <string.h>

#include "lsynack.h"

#define TRACE_MAX 1000000 /* records; more are counted as lost */

static ltrace *checktrace(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, TRACE_MT);
}

ltrace *sk_lua_newtrace(lua_State *L) {
  ltrace *tr = lua_newuserdatauv(L, sizeof *tr, 0);
  memset(tr, 0, sizeof *tr);
  tr->max = TRACE_MAX;
  tr->attached = 1;
  luaL_setmetatable(L, TRACE_MT);
  return tr;
}

void sk_lua_trace_add(ltrace *tr, uint64_t t, int dir, int flags,
                      const uint8_t *pkt, size_t len) {
  trec *r;
  if (tr->n == tr->max) {
    tr->lost++;
    return;
  }
  if (tr->n == tr->size) {
    size_t n = tr->size ? tr->size * 2 : 64;
    trec *nr = realloc(tr->recs, n * sizeof *nr);
    if (!nr) {
      tr->lost++;
      return;
    }
    tr->recs = nr;
    tr->size = n;
  }
  r = &tr->recs[tr->n];
  if (!(r->data = malloc(len ? len : 1))) {
    tr->lost++;
    return;
  }
  memcpy(r->data, pkt, len);
  r->t = t;
  r->len = (uint32_t)len;
  r->dir = (uint8_t)dir;
  r->flags = (uint8_t)flags;
  r->drop = 0;
  tr->n++;
}

/* The stack refused the packet it last received: mark its record. */
void sk_lua_trace_drop(ltrace *tr, int reason) {
  size_t i = tr->n;
  while (i > 0 && tr->recs[i - 1].dir != 1) /* replies may follow it */
    i--;
  if (i > 0 && !tr->recs[i - 1].drop)
    tr->recs[i - 1].drop = (uint8_t)(reason + 1);
}

void sk_lua_trace_unlink(ltrace **list, ltrace *tr) {
  for (; *list; list = &(*list)->next)
    if (*list == tr) {
      *list = tr->next;
      break;
    }
  tr->next = NULL;
  tr->attached = 0;
}

static void clear(ltrace *tr) {
  size_t i;
  for (i = 0; i < tr->n; i++)
    free(tr->recs[i].data);
  tr->n = 0;
  tr->lost = 0;
}

static int t_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checktrace(L, 1)->n);
  return 1;
}

/* trace[i] is a segment table; other keys are methods. */
static int t_index(lua_State *L) {
  ltrace *tr = checktrace(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer i = lua_tointeger(L, 2);
    const trec *r;
    if (i < 1 || (size_t)i > tr->n)
      return 0;
    r = &tr->recs[i - 1];
    sk_lua_pushsegment(L, r->data, r->len);
    lua_pushnumber(L, (double)r->t / 1e6);
    lua_setfield(L, -2, "t");
    if (r->dir) {
      lua_pushstring(L, r->dir == 1 ? "in" : "out");
      lua_setfield(L, -2, "dir");
    }
    if (r->drop) {
      lua_pushstring(L, sk_drop_name(r->drop - 1));
      lua_setfield(L, -2, "drop");
    }
    if (r->flags & SK_SIM_DROPPED) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "dropped");
    }
    if (r->flags & SK_SIM_DUPLICATE) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "duplicate");
    }
    if (r->flags & SK_SIM_CORRUPTED) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "corrupted");
    }
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_gettable(L, lua_upvalueindex(1));
  return 1;
}

static int t_clear(lua_State *L) {
  clear(checktrace(L, 1));
  return 0;
}

static int t_lost(lua_State *L) { /* records that did not fit */
  lua_pushinteger(L, (lua_Integer)checktrace(L, 1)->lost);
  return 1;
}

static int t_raw(lua_State *L) { /* the bytes of record i */
  ltrace *tr = checktrace(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  luaL_argcheck(L, i >= 1 && (size_t)i <= tr->n, 2, "no such record");
  lua_pushlstring(L, (const char *)tr->recs[i - 1].data, tr->recs[i - 1].len);
  return 1;
}

/* Stops recording; the source's list forgets it when it is collected or
 * when the source goes away, whichever is first. */
static int t_gc(lua_State *L) {
  ltrace *tr = checktrace(L, 1);
  clear(tr);
  free(tr->recs);
  tr->recs = NULL;
  tr->size = 0;
  if (tr->attached && tr->owner)
    sk_lua_trace_unlink(tr->owner, tr);
  return 0;
}

static const luaL_Reg methods[] = {
    {"clear", t_clear}, {"lost", t_lost}, {"raw", t_raw}, {NULL, NULL}};

int sk_lua_open_trace(lua_State *L) {
  luaL_newmetatable(L, TRACE_MT);
  lua_pushcfunction(L, t_len);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, t_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, methods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods"); /* for trace.lua to extend */
  lua_pushcclosure(L, t_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  return 0;
}
