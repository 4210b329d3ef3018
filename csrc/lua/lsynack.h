/*
 * lsynack.h — what the files of the Lua binding share.  One file per
 * userdata type (lsim.c, lstack.c, llistener.c, lconn.c, lpeer.c,
 * ltrace.c), plus the segment table codec (lsegment.c) and the option
 * tables (lconfig.c).  No protocol logic lives here.
 */
#ifndef LSYNACK_H
#define LSYNACK_H

#include <lauxlib.h>
#include <lua.h>

#include "../synack.h"

#define SIM_MT "synack.sim"
#define STACK_MT "synack.stack"
#define LISTENER_MT "synack.listener"
#define CONN_MT "synack.conn"
#define PEER_MT "synack.peer"
#define TRACE_MT "synack.trace"
#define CAPTURE_MT "synack.capture"
#define STACKS_REG "synack.stacks" /* weak: lstack pointer -> userdata */

/* What owns time and runs callbacks for a set of stacks: the simulator
 * now, libuv later. */
typedef struct ldriver {
  uint64_t (*now)(struct ldriver *d);
  lua_State *L;           /* the thread inside run(): callbacks run on it */
  int running;            /* inside run() */
  int dispatching;        /* callbacks are running */
  struct lstack *closing; /* stacks closed from callbacks, to close after */
  int err_ref;            /* the first callback error, waiting to be raised */
} ldriver;

struct sk_uvdev;

typedef struct lstack {
  sk_stack *st; /* NULL once closed */
  ldriver *drv;
  sk_sim *sim;              /* the sim it lives in, if any */
  struct sk_uvdev *live;    /* or its device, if live */
  struct lstack *live_next; /* the live driver's list */
  uint32_t addr;
  int close_pending;
  struct lstack *close_next;
  struct ltrace *traces; /* stack:trace() objects recording */
} lstack;

typedef struct lsim {
  ldriver drv; /* first: an lsim is its driver */
  sk_sim *sim;
  struct ltrace *traces; /* net:trace() objects recording */
} lsim;

/* Stops a run: 1 when the wait is over. */
typedef int (*sk_lua_stop_fn)(lua_State *L, void *ctx);

typedef struct lconn {
  sk_conn *c; /* NULL once the stack is gone */
  lstack *ls;
  int closed_seen; /* the "close" event has been delivered */
} lconn;

typedef struct llistener {
  sk_listener *l; /* NULL once closed */
  lstack *ls;
} llistener;

/* A recording of packets: the raw bytes, parsed on demand. */
typedef struct trec {
  uint64_t t;
  uint32_t len;
  uint8_t dir;   /* 0 none (net), 1 in, 2 out */
  uint8_t flags; /* SK_SIM_* */
  uint8_t drop;  /* 1 + the sk_drop reason the stack refused it for */
  uint8_t *data;
} trec;

typedef struct ltrace {
  FILE *file; /* a capture: records go straight to this pcap file */
  trec *recs;
  size_t n, size, max, lost;
  size_t last_in; /* 1 + the index of the last "in" record stored; 0: none */
  int attached;   /* still recording */
  struct ltrace **owner; /* the list of its source, while attached */
  struct ltrace *next;
} ltrace;

/* The module's one exported symbol: everything else in core.so is
 * hidden, so calls inside it are direct and can be inlined. */
__attribute__((visibility("default"))) int luaopen_synack_core(lua_State *L);

/* The key of a task's waker in a conn's or listener's handler table: not
 * an event name, so conn:on and listener:on cannot set it. */
#define SK_LUA_WAKE "wake"
int sk_lua_set_waker(lua_State *L);
void sk_lua_listener_anchor(lua_State *L, int ud);

/* lsynack.c */
/* Calls with a traceback; an error is recorded in d (to be raised from
 * run) instead of unwinding through C.  Returns 1 on success. */
int sk_lua_pcall(lua_State *L, ldriver *d, int nargs, int nresults);
void sk_lua_raise_pending(lua_State *L, ldriver *d);
uint32_t sk_lua_checkaddr(lua_State *L, int idx, const char *what);
void sk_lua_pushaddr(lua_State *L, uint32_t addr);
int sk_lua_pusherr(lua_State *L, int err); /* nil, "ENAME"; returns 2 */
void sk_lua_weakref_set(lua_State *L, const char *table, void *key, int idx);
int sk_lua_weakref_get(lua_State *L, const char *table, void *key);
void sk_lua_anchor(lua_State *L, int idx, int on);
double sk_lua_checkseconds(lua_State *L, int idx, const char *what);
uint64_t sk_lua_usec(double seconds);

/* lconfig.c: option tables */
enum { OPT_STACK = 1, OPT_CONNECT = 2, OPT_LISTEN = 4, OPT_HOST = 8 };
/* Reads the stack options of the table at idx into cfg (other keys in
 * `extra`, a NULL-terminated list, are left for the caller).  Raises on an
 * unknown key or a bad value, naming it. */
void sk_lua_config(lua_State *L, int idx, int scope, sk_config *cfg,
                   const char *const *extra);
void sk_lua_check_keys(lua_State *L, int idx, int scope,
                       const char *const *extra);

/* lsegment.c */
void sk_lua_pushsegment(lua_State *L, const uint8_t *pkt, size_t len);
size_t sk_lua_buildsegment(lua_State *L, int idx, uint32_t default_from,
                           uint8_t *buf, size_t cap);
int sk_lua_segment_build(lua_State *L);
/* The segment table at idx built into bytes (from `from` unless it says
 * otherwise), in a buffer on the Lua stack: valid during the call. */
const uint8_t *sk_lua_segment_arg(lua_State *L, int idx, uint32_t from,
                                  size_t *n);
int sk_lua_segment_parse(lua_State *L);

/* ltrace.c */
ltrace *sk_lua_newtrace(lua_State *L);
void sk_lua_trace_drop(ltrace *tr, int reason);
ltrace *sk_lua_newcapture(lua_State *L, const char *path);
void sk_lua_trace_add(ltrace *tr, uint64_t t, int dir, int flags,
                      const uint8_t *pkt, size_t len);
void sk_lua_trace_unlink(ltrace **list, ltrace *tr);
int sk_lua_open_trace(lua_State *L);

/* lsim.c, lstack.c, llistener.c, lconn.c, lpeer.c */
int sk_lua_open_sim(lua_State *L);
int sk_lua_sim_new(lua_State *L);
/* Runs the sim until `stop` says so (returns 1), or until `until` or until
 * nothing is left to do (returns 0).  Raises a callback's error. */
int sk_lua_sim_run(lua_State *L, lsim *s, uint64_t until, sk_lua_stop_fn stop,
                   void *ctx);
void sk_lua_stack_close(lua_State *L, lstack *ls);

/* llive.c */
void sk_lua_open_live(lua_State *L);
void sk_lua_live_close(lstack *ls);
const char *sk_lua_live_ifname(const lstack *ls);
int sk_lua_open_stack(lua_State *L);
lstack *sk_lua_newstack(lua_State *L, sk_stack *st, ldriver *d, sk_sim *sim,
                        int owner_idx);
lstack *sk_lua_checkstack(lua_State *L, int idx);
int sk_lua_open_listener(lua_State *L);
int sk_lua_newlistener(lua_State *L, lstack *ls, sk_listener *l, int opts);
int sk_lua_open_conn(lua_State *L);
lconn *sk_lua_newconn(lua_State *L, lstack *ls, sk_conn *c, int opts);
void sk_lua_pushinfo(lua_State *L, const sk_info *info);
int sk_lua_open_peer(lua_State *L);
int sk_lua_newpeer(lua_State *L, int sim_idx, lsim *s, uint32_t addr);

#endif
