/*
 * stack.h — the stack object and the pieces every core file shares:
 * events, the 4-tuple table, listeners, the timer heap.
 */
#ifndef SK_STACK_H
#define SK_STACK_H

#include "../synack.h"
#include "mem.h"
#include "siphash.h"
#include "timewait.h"
#include "wire.h"

#define LISTEN_BUCKETS 64

/* Something events can be queued on: a connection or a listener.  The
 * stack keeps a list of nodes with undelivered events; dispatch walks it
 * after the core has returned, so callbacks never run inside the core. */
enum { EV_CONN, EV_LISTENER };

typedef struct evnode {
  struct evnode *prev, *next;
  sk_event_fn cb;
  void *ud;
  uint8_t kind;    /* EV_CONN or EV_LISTENER */
  uint8_t queued;  /* on the stack's list */
  uint8_t busy;    /* a callback of this node is running */
  uint8_t pending; /* 1 << SK_EV_* */
} evnode;

struct sk_listener {
  evnode ev;
  sk_stack *stack;
  sk_listener *next;  /* the stack's list of listeners */
  sk_listener *hnext; /* its port's bucket */
  uint16_t port;
  uint32_t backlog;
  uint32_t max_syn_backlog;
  uint32_t syn_queue;     /* children in SYN-RECEIVED */
  uint64_t cookies_until; /* returning ACKs may carry cookies until then */
  uint8_t syncookies;     /* enum sk_syncookies, never DEFAULT */
  uint32_t accept_len;    /* established children not yet accepted */
  sk_conn *accept_head, *accept_tail;
  sk_params params;
};

/* Connection parameters, shared: conns with equal ones point to one
 * block (most use the stack's defaults), counted by references. */
typedef struct param_block {
  struct param_block *next;
  uint32_t refs;
  sk_params p;
} param_block;

struct sk_stack {
  sk_config cfg;
  param_block *params; /* every block in use */
  sk_mem mem;
  sk_stats stats;
  sk_output_fn out;
  void *out_ctx;
  sk_trace_fn trace;
  void *trace_ctx;

  /* 4-tuple table: chained, power-of-two buckets of sk_conn *, keyed
   * hash, doubling a little at a time. */
  htab conns;
  uint32_t nconns;
  uint64_t hash_key[2];

  sk_listener *listeners;
  sk_listener *lbuckets[LISTEN_BUCKETS]; /* by port: O(1) demux */
  sk_conn *all;            /* every conn, newest first, until it is freed */
  tw_table tw;             /* compact TIME-WAIT entries */
  uint16_t port_table[64]; /* RFC 6056 algorithm 3's counters */
  uint32_t port_raddr;     /* the last destination's F, kept: a client */
  uint16_t port_rport;     /* opens many connections to one server */
  uint64_t port_hash;

  /* Every conn with a deadline, in a binary min-heap on it. */
  sk_conn **heap;
  uint32_t heap_len, heap_cap;

  evnode *ev_head, *ev_tail;
  int dispatching;

  sipkey key;         /* from cfg.secret: ISNs, cookies, offsets, ports */
  uint16_t next_port; /* ephemeral port cursor */
  uint16_t ip_id;

  uint8_t *obuf; /* one outgoing packet */
  size_t obuf_size;
};

/* events.c-like helpers living in stack.c */
void ev_post(sk_stack *s, evnode *n, int event);
void ev_unlink(sk_stack *s, evnode *n);

/* the 4-tuple table */
sk_conn *conn_lookup(sk_stack *s, uint32_t raddr, uint16_t rport,
                     uint16_t lport);
int conn_hash_insert(sk_stack *s, sk_conn *c);
void conn_hash_remove(sk_stack *s, sk_conn *c);

/* listeners (listener.c) */
sk_listener *listener_find(sk_stack *s, uint16_t port);
/* isn_floor: NULL, or the SND.NXT of the TIME-WAIT incarnation this SYN
 * replaces, which the new ISN must exceed. */
void listener_input(sk_listener *l, const tcp_seg *seg, uint64_t now,
                    const uint32_t *isn_floor);
void listener_child_established(sk_listener *l, sk_conn *c);
void listener_child_gone(sk_listener *l, sk_conn *c);

/* A keyed hash of a few words (the 4-tuple table uses it; so do the
 * per-connection timestamp offsets). */
uint32_t stack_hash(const sk_stack *s, uint64_t a, uint64_t b);

/* timewait.c */
int tw_enter(sk_stack *s, sk_conn *c, uint64_t now);
uint32_t tw_lookup(const sk_stack *s, uint32_t raddr, uint16_t rport,
                   uint16_t lport);
int tw_input(sk_stack *s, uint32_t i, const tcp_seg *seg, uint64_t now,
             uint32_t *old_snd_nxt);
void tw_forget_husk(sk_stack *s, sk_conn *c, int remove, uint64_t now);
uint64_t tw_expires(const sk_stack *s, const sk_conn *c, uint64_t now);
void tw_expire(sk_stack *s, uint64_t now);
uint64_t tw_deadline(const sk_stack *s);
void tw_free_all(sk_stack *s);
void tw_visit(const sk_stack *s, uint64_t now, sk_visit_fn fn, void *ctx);
int tw_port_free(sk_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport,
                 int ts, uint64_t now);
uint32_t tcb_ts_offset(const sk_stack *s, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport);

/* isn.c: a keyed pseudorandom function of a 4-tuple (SipHash-2-4 of the
 * stack's secret), one domain per use, and RFC 6528 ISNs made from it. */
enum { PRF_ISN, PRF_PORT };
uint64_t stack_prf(const sk_stack *s, int domain, uint32_t laddr,
                   uint16_t lport, uint32_t raddr, uint16_t rport,
                   uint32_t extra);
uint64_t tuple_secret(const sk_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport);
uint32_t isn_at(uint64_t now, uint64_t secret); /* the ISN at `now` */

/* The shared block equal to *p (made if there is none), or NULL when out
 * of memory; params_put lets go of one. */
const sk_params *params_get(sk_stack *s, const sk_params *p);
void params_put(sk_stack *s, const sk_params *p);

/* Counts a refused packet under its reason (and the counter the reason
 * adds to) and tells the trace hook. */
void stack_drop(sk_stack *s, uint64_t now, int reason);

/* Emits one segment built from *seg (addresses, ports, flags, ...); the
 * payload, if any, is already in place in s->obuf when seg->data is NULL. */
void stack_emit(sk_stack *s, uint64_t now, tcp_seg *seg);
/* RFC 9293 §3.10.7.1: the RST that answers `seg` when no connection
 * exists (or the one given is not the one it is for). */
void stack_reset_reply(sk_stack *s, uint64_t now, const tcp_seg *seg);

#endif
