/*
 * lsegment.c — segment tables (API.md, "Segments") to IPv4 + TCP bytes and
 * back: synack.segment.build/parse, peer:send, and trace entries.
 */
#include <string.h>

#include "../tcp/wire.h"
#include "lsynack.h"

/* ---- bytes -> table ------------------------------------------------------ */

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void push_options(lua_State *L, const tcp_opts *o) {
  int i;
  lua_newtable(L);
  if (o->has & HAS_MSS)
    set_int(L, "mss", o->mss);
  if (o->has & HAS_WSCALE)
    set_int(L, "wscale", o->wscale);
  if (o->has & HAS_SACK_PERM) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "sackok");
  }
  if (o->has & HAS_TS) {
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, o->ts_val);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, o->ts_ecr);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "ts");
  }
  if (o->has & HAS_SACK) {
    lua_createtable(L, o->nsack, 0);
    for (i = 0; i < o->nsack; i++) {
      lua_createtable(L, 2, 0);
      lua_pushinteger(L, o->sack[i][0]);
      lua_rawseti(L, -2, 1);
      lua_pushinteger(L, o->sack[i][1]);
      lua_rawseti(L, -2, 2);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "sack");
  }
  if (o->has & HAS_BAD_OPTION) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "malformed");
  }
}

/* Pushes the table for a packet, or nil and the reason it is not a TCP
 * segment.  A wrong checksum is reported, not refused. */
static int push_parsed(lua_State *L, const uint8_t *pkt, size_t len) {
  tcp_seg s, check;
  char flags[9];
  int st = wire_parse(pkt, len, 0, &s);
  if (st != WIRE_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sk_drop_name(wire_drop_reason(st)));
    return 2;
  }
  lua_createtable(L, 0, 16);
  sk_lua_pushaddr(L, s.saddr);
  lua_setfield(L, -2, "from");
  sk_lua_pushaddr(L, s.daddr);
  lua_setfield(L, -2, "to");
  set_int(L, "sport", s.sport);
  set_int(L, "dport", s.dport);
  wire_flags_str(s.flags, flags, sizeof flags);
  lua_pushstring(L, flags);
  lua_setfield(L, -2, "flags");
  set_int(L, "seq", s.seq);
  set_int(L, "ack", s.ack);
  set_int(L, "win", s.win);
  set_int(L, "urg", s.urp);
  set_int(L, "len", s.len);
  lua_pushlstring(L, (const char *)s.data, s.len);
  lua_setfield(L, -2, "data");
  push_options(L, &s.opts);
  lua_setfield(L, -2, "options");
  set_int(L, "ttl", s.ttl);
  set_int(L, "id", s.ip_id);
  st = wire_parse(pkt, len, 1, &check);
  if (st == WIRE_BAD_CKSUM || st == WIRE_IP_CKSUM) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "bad_checksum");
  }
  return 1;
}

void sk_lua_pushsegment(lua_State *L, const uint8_t *pkt, size_t len) {
  if (push_parsed(L, pkt, len) == 2) { /* keep what a trace recorded */
    lua_pop(L, 2);
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "malformed");
    lua_pushlstring(L, (const char *)pkt, len);
    lua_setfield(L, -2, "raw");
  }
}

int sk_lua_segment_parse(lua_State *L) {
  size_t len;
  const char *p = luaL_checklstring(L, 1, &len);
  return push_parsed(L, (const uint8_t *)p, len);
}

/* ---- table -> bytes ------------------------------------------------------ */

static const char *const seg_keys[] = {
    "from", "to", "sport", "dport", "flags", "seq", "ack", "win", "urg", "len",
    "data", "options", "raw_options", "ttl", "id", "bad_checksum",
    /* what parse and traces add; ignored when building */
    "t", "dir", "dropped", "duplicate", "corrupted", NULL};

static const char *const opt_keys[] = {"mss",  "wscale",    "sackok", "ts",
                                       "sack", "malformed", NULL};

static void check_keys(lua_State *L, int idx, const char *const *allowed,
                       const char *what) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *const *k = allowed;
    const char *name =
        lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    while (*k && strcmp(*k, name) != 0)
      k++;
    if (!*k)
      luaL_error(L, "unknown %s field '%s'", what, name);
    lua_pop(L, 1);
  }
}

/* An integer field, wrapped modulo 2^bits (sequence arithmetic in scripts
 * may step past 2^32), or `def` when absent. */
static uint64_t opt_uint(lua_State *L, int idx, const char *k, uint64_t def,
                         int bits, int wrap) {
  lua_Integer v;
  int isint;
  if (lua_getfield(L, idx, k) == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  v = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 1);
  if (!isint)
    luaL_error(L, "segment field '%s' must be an integer", k);
  if (!wrap && (v < 0 || (uint64_t)v >> bits))
    luaL_error(L, "segment field '%s' out of range (0..%d bits)", k, bits);
  return (uint64_t)v & ((1ull << bits) - 1);
}

static uint32_t pair_field(lua_State *L, int idx, int i, const char *what) {
  lua_Integer v;
  int isint;
  lua_rawgeti(L, idx, i);
  v = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 1);
  if (!isint)
    luaL_error(L, "option '%s' needs integers", what);
  return (uint32_t)v;
}

static void read_options(lua_State *L, int idx, tcp_opts *o) {
  int t;
  memset(o, 0, sizeof *o);
  if (lua_getfield(L, idx, "options") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  t = lua_gettop(L);
  luaL_checktype(L, t, LUA_TTABLE);
  check_keys(L, t, opt_keys, "option");
  if (lua_getfield(L, t, "mss") != LUA_TNIL) {
    o->has |= HAS_MSS;
    o->mss = (uint16_t)opt_uint(L, t, "mss", 0, 16, 0);
  }
  if (lua_getfield(L, t, "wscale") != LUA_TNIL) {
    o->has |= HAS_WSCALE;
    o->wscale = (uint8_t)opt_uint(L, t, "wscale", 0, 8, 0);
  }
  if (lua_getfield(L, t, "sackok") != LUA_TNIL && lua_toboolean(L, -1))
    o->has |= HAS_SACK_PERM;
  if (lua_getfield(L, t, "ts") == LUA_TTABLE) {
    o->has |= HAS_TS;
    o->ts_val = pair_field(L, -1, 1, "ts");
    o->ts_ecr = pair_field(L, -1, 2, "ts");
  }
  if (lua_getfield(L, t, "sack") == LUA_TTABLE) {
    int n = (int)lua_rawlen(L, -1), i;
    if (n > TCP_MAX_SACK)
      luaL_error(L, "option 'sack' holds at most %d blocks", TCP_MAX_SACK);
    o->has |= HAS_SACK;
    o->nsack = (uint8_t)n;
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, -1, i + 1);
      luaL_checktype(L, -1, LUA_TTABLE);
      o->sack[i][0] = pair_field(L, -1, 1, "sack");
      o->sack[i][1] = pair_field(L, -1, 2, "sack");
      lua_pop(L, 1);
    }
  }
  lua_settop(L, t - 1);
}

static uint32_t addr_field(lua_State *L, int idx, const char *k, uint32_t def) {
  uint32_t a;
  if (lua_getfield(L, idx, k) == LUA_TNIL) {
    lua_pop(L, 1);
    if (def == 0)
      luaL_error(L, "segment field '%s' is required", k);
    return def;
  }
  a = sk_lua_checkaddr(L, -1, k);
  lua_pop(L, 1);
  return a;
}

const uint8_t *sk_lua_segment_arg(lua_State *L, int idx, uint32_t from,
                                  size_t *n) {
  uint8_t *buf;
  luaL_checktype(L, idx, LUA_TTABLE);
  buf = lua_newuserdatauv(L, 65536, 0); /* collected with the call's stack */
  *n = sk_lua_buildsegment(L, idx, from, buf, 65536);
  return buf;
}

size_t sk_lua_buildsegment(lua_State *L, int idx, uint32_t default_from,
                           uint8_t *buf, size_t cap) {
  tcp_seg s;
  uint8_t raw[TCP_OPT_MAX];
  size_t n, rawlen = 0;
  const char *p;
  int flags, bad, top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  check_keys(L, idx, seg_keys, "segment");
  memset(&s, 0, sizeof s);
  s.saddr = addr_field(L, idx, "from", default_from);
  s.daddr = addr_field(L, idx, "to", 0);
  s.sport = (uint16_t)opt_uint(L, idx, "sport", 0, 16, 0);
  s.dport = (uint16_t)opt_uint(L, idx, "dport", 0, 16, 0);
  s.seq = (uint32_t)opt_uint(L, idx, "seq", 0, 32, 1);
  s.ack = (uint32_t)opt_uint(L, idx, "ack", 0, 32, 1);
  s.win = (uint16_t)opt_uint(L, idx, "win", 65535, 16, 0);
  s.urp = (uint16_t)opt_uint(L, idx, "urg", 0, 16, 0);
  s.ttl = (uint8_t)opt_uint(L, idx, "ttl", 64, 8, 0);
  s.ip_id = (uint16_t)opt_uint(L, idx, "id", 0, 16, 0);
  lua_getfield(L, idx, "flags");
  p = lua_isnil(L, -1) ? "" : luaL_tolstring(L, -1, &n);
  if ((flags = wire_flags_parse(p, strlen(p))) < 0)
    luaL_error(L,
               "segment field 'flags': unknown flag in '%s' (use tcpdump's "
               "letters F S R P . U E W)",
               p);
  s.flags = (uint8_t)flags;
  lua_settop(L, top);
  read_options(L, idx, &s.opts);
  if (lua_getfield(L, idx, "raw_options") != LUA_TNIL) {
    p = luaL_checklstring(L, -1, &rawlen);
    if (rawlen > TCP_OPT_MAX)
      luaL_error(L, "segment field 'raw_options' holds at most 40 bytes");
    memset(raw, 0, sizeof raw); /* padded with EOL to a multiple of 4 */
    memcpy(raw, p, rawlen);
    s.raw_opts = raw;
    s.raw_opts_len = (uint8_t)((rawlen + 3) & ~(size_t)3);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "data") != LUA_TNIL) {
    s.data = (const uint8_t *)luaL_checklstring(L, -1, &n);
    s.len = (uint32_t)n;
    if (opt_uint(L, idx, "len", n, 32, 0) != n)
      luaL_error(L, "segment fields 'len' and 'data' disagree");
  } else if ((s.len = (uint32_t)opt_uint(L, idx, "len", 0, 16, 0)) > 0) {
    /* a length without data: that many zero bytes */
    s.data = memset(lua_newuserdatauv(L, s.len, 0), 0, s.len);
  }
  lua_getfield(L, idx, "bad_checksum");
  bad = lua_toboolean(L, -1);
  n = wire_build(&s, bad, buf, cap);
  if (n == 0)
    luaL_error(L, "segment too large for one IPv4 packet");
  lua_settop(L, top);
  return n;
}

int sk_lua_segment_build(lua_State *L) {
  uint8_t *buf;
  size_t n;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  buf = lua_newuserdatauv(L, 65536, 0);
  n = sk_lua_buildsegment(L, 1, 0, buf, 65536);
  lua_pushlstring(L, (const char *)buf, n);
  return 1;
}
