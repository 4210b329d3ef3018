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

/* ---- pcap (libpcap's file format, LINKTYPE_RAW: bare IPv4 packets) ----- */

#define LINKTYPE_RAW 101

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* host order */
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static int pcap_header(FILE *f) {
  uint8_t h[24];
  put32(h, 0xa1b2c3d4u); /* microsecond timestamps, in this host's order */
  put16(h + 4, 2);
  put16(h + 6, 4);
  put32(h + 8, 0);  /* thiszone */
  put32(h + 12, 0); /* sigfigs */
  put32(h + 16, 65535);
  put32(h + 20, LINKTYPE_RAW);
  return fwrite(h, sizeof h, 1, f) == 1;
}

static int pcap_record(FILE *f, uint64_t t, const uint8_t *pkt, size_t len) {
  uint8_t h[16];
  put32(h, (uint32_t)(t / 1000000));
  put32(h + 4, (uint32_t)(t % 1000000));
  put32(h + 8, (uint32_t)len);
  put32(h + 12, (uint32_t)len);
  return fwrite(h, sizeof h, 1, f) == 1 && fwrite(pkt, 1, len, f) == len;
}

/* Room for one more record; 0 if there is none (the record is lost). */
static int reserve(ltrace *tr) {
  if (tr->n == tr->max)
    return 0;
  if (tr->n == tr->size) {
    size_t n = tr->size ? tr->size * 2 : 64;
    trec *nr = realloc(tr->recs, n * sizeof *nr);
    if (!nr)
      return 0;
    tr->recs = nr;
    tr->size = n;
  }
  return 1;
}

void sk_lua_trace_add(ltrace *tr, uint64_t t, int dir, int flags,
                      const uint8_t *pkt, size_t len) {
  trec *r;
  if (tr->file) { /* a capture */
    if (!pcap_record(tr->file, t, pkt, len))
      tr->lost++;
    return;
  }
  if (dir == 1) /* a new packet in: drops from now on are about it */
    tr->last_in = 0;
  if (!reserve(tr) || !(tr->recs[tr->n].data = malloc(len ? len : 1))) {
    tr->lost++;
    return;
  }
  r = &tr->recs[tr->n];
  memcpy(r->data, pkt, len);
  r->t = t;
  r->len = (uint32_t)len;
  r->dir = (uint8_t)dir;
  r->flags = (uint8_t)flags;
  r->drop = 0;
  tr->n++;
  if (dir == 1)
    tr->last_in = tr->n;
}

/* The stack refused the packet it last received: mark its record, if the
 * trace holds it (replies may have been recorded after it). */
void sk_lua_trace_drop(ltrace *tr, int reason) {
  if (tr->file || !tr->last_in)
    return;
  if (!tr->recs[tr->last_in - 1].drop)
    tr->recs[tr->last_in - 1].drop = (uint8_t)(reason + 1);
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
  tr->last_in = 0;
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

/* trace:pcap(path) -> true | nil, err */
static int t_pcap(lua_State *L) {
  ltrace *tr = checktrace(L, 1);
  const char *path = luaL_checkstring(L, 2);
  FILE *f = fopen(path, "wb");
  size_t i;
  int ok;
  if (!f)
    return luaL_fileresult(L, 0, path);
  ok = pcap_header(f);
  for (i = 0; ok && i < tr->n; i++)
    ok = pcap_record(f, tr->recs[i].t, tr->recs[i].data, tr->recs[i].len);
  if (fclose(f) != 0)
    ok = 0;
  return luaL_fileresult(L, ok, path);
}

/* ---- captures: stack:pcap(path) ------------------------------------------ */

static ltrace *checkcapture(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, CAPTURE_MT);
}

/* Pushes a capture writing to path, or nil, err (and returns NULL). */
ltrace *sk_lua_newcapture(lua_State *L, const char *path) {
  ltrace *tr;
  FILE *f = fopen(path, "wb");
  if (!f || !pcap_header(f)) {
    if (f)
      fclose(f);
    luaL_fileresult(L, 0, path);
    lua_pop(L, 1); /* nil, message */
    return NULL;
  }
  tr = lua_newuserdatauv(L, sizeof *tr, 0);
  memset(tr, 0, sizeof *tr);
  tr->file = f;
  tr->attached = 1;
  luaL_setmetatable(L, CAPTURE_MT);
  return tr;
}

/* capture:close(): the file is complete; closing again does nothing. */
static int c_close(lua_State *L) {
  ltrace *tr = checkcapture(L, 1);
  int ok = 1;
  if (tr->attached && tr->owner)
    sk_lua_trace_unlink(tr->owner, tr);
  tr->attached = 0;
  if (tr->file) {
    ok = fclose(tr->file) == 0 && tr->lost == 0;
    tr->file = NULL;
  }
  lua_pushboolean(L, ok);
  return 1;
}

static int c_tostring(lua_State *L) {
  ltrace *tr = checkcapture(L, 1);
  lua_pushstring(L, tr->file ? "synack.capture (open)"
                             : "synack.capture (closed)");
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

static const luaL_Reg methods[] = {{"clear", t_clear},
                                   {"lost", t_lost},
                                   {"raw", t_raw},
                                   {"pcap", t_pcap},
                                   {NULL, NULL}};

int sk_lua_open_trace(lua_State *L) {
  luaL_newmetatable(L, CAPTURE_MT);
  lua_pushcfunction(L, c_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, c_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, c_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, c_close);
  lua_setfield(L, -2, "close");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "methods");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
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
