/*
 * stack.c — the stack: configuration, demultiplexing of incoming segments,
 * the 4-tuple table, timers at stack level, and event delivery.
 */
#include <stddef.h>
#include <string.h>

#include "tcb.h"

#define OBUF_SIZE 65536u
#define HASH_MIN 16u

void sk_config_init(sk_config *cfg) {
  sk_params *p = &cfg->params;
  memset(cfg, 0, sizeof *cfg);
  /* IANA's dynamic range (RFC 6335 §6), as RFC 6056 suggests. */
  cfg->port_lo = 49152;
  cfg->port_hi = 65535;
  cfg->backlog = 128;
  cfg->max_syn_backlog = 256;
  cfg->ttl = 64;
  p->sndbuf = 262144;
  p->rcvbuf = 262144;
  p->rto_initial = 1000000; /* RFC 6298 (2.1) */
  p->rto_min = 200000;      /* Linux's TCP_RTO_MIN */
  p->rto_max = 120000000;   /* Linux's TCP_RTO_MAX */
  p->delack = 40000;        /* Linux's TCP_DELACK_MIN */
  p->msl = 30000000;
  p->fin_timeout = 60000000;          /* net.ipv4.tcp_fin_timeout */
  p->challenge_ack_interval = 500000; /* net.ipv4.tcp_invalid_ratelimit */
  p->keepalive_idle = 0;              /* off (RFC 1122 §4.2.3.6) */
  p->keepalive_interval = 75000000;   /* Linux's tcp_keepalive_intvl */
  p->keepalive_count = 9;             /* Linux's tcp_keepalive_probes */
  p->mss = 1460;
  p->syn_retries = 6;
  p->synack_retries = 5;
  p->retries = 15;
  p->max_ooo_holes = 32;
  p->wscale = SK_WSCALE_AUTO;
  p->timestamps = 1;
  p->sack = 1;
  cfg->max_time_wait = 131072; /* net.ipv4.tcp_max_tw_buckets */
  cfg->rfc1337 = 1;
  cfg->syncookies = SK_SYNCOOKIES_AUTO; /* net.ipv4.tcp_syncookies = 1 */
  p->nodelay = 0;
}

/* ---- creation ------------------------------------------------------------ */

sk_stack *sk_stack_new(const sk_config *cfg, sk_output_fn out, void *ctx) {
  sk_mem mem;
  sk_stack *s;
  mem_init(&mem, cfg->alloc, cfg->alloc_ud);
  s = mem_calloc(&mem, sizeof *s);
  if (!s)
    return NULL;
  s->mem = mem;
  s->cfg = *cfg;
  s->out = out;
  s->out_ctx = ctx;
  s->obuf_size = OBUF_SIZE;
  s->obuf = mem_alloc(&s->mem, s->obuf_size);
  if (!s->obuf ||
      !htab_grow(&s->conns, &s->mem, sizeof(sk_conn *), HASH_MIN, NULL, NULL)) {
    sk_stack_free(s);
    return NULL;
  }
  /* The table's fast hash gets its own key, drawn from the secret by
   * SipHash: recovering it tells nothing about the secret. */
  sipkey_from_bytes(&s->key, cfg->secret);
  s->hash_key[0] = siphash24(&s->key, "table key 0", 11);
  s->hash_key[1] = siphash24(&s->key, "table key 1", 11);
  s->next_port = cfg->port_lo;
  return s;
}

void sk_stack_free(sk_stack *s) {
  sk_mem mem;
  if (!s)
    return;
  while (s->all) {
    sk_conn *c = s->all;
    s->all = c->anext;
    tcb_free(c);
  }
  while (s->listeners) {
    sk_listener *l = s->listeners;
    s->listeners = l->next;
    mem_free(&s->mem, l, sizeof *l);
  }
  tw_free_all(s);
  mem_cache_flush(&s->mem);
  mem_free(&s->mem, s->heap, s->heap_cap * sizeof *s->heap);
  htab_free(&s->conns, &s->mem, sizeof(sk_conn *));
  mem_free(&s->mem, s->obuf, s->obuf_size);
  mem = s->mem;
  mem_free(&mem, s, sizeof *s);
}

/* ---- shared parameters --------------------------------------------------- */

const sk_params *params_get(sk_stack *s, const sk_params *p) {
  param_block *b;
  for (b = s->params; b; b = b->next)
    if (memcmp(&b->p, p, sizeof *p) == 0) { /* padding differs: unshared */
      b->refs++;
      return &b->p;
    }
  if (!(b = mem_alloc(&s->mem, sizeof *b)))
    return NULL;
  b->p = *p;
  b->refs = 1;
  b->next = s->params;
  s->params = b;
  return &b->p;
}

void params_put(sk_stack *s, const sk_params *p) {
  param_block **pp = &s->params, *b;
  while ((b = *pp) != NULL && &b->p != p)
    pp = &b->next;
  if (b && --b->refs == 0) {
    *pp = b->next;
    mem_free(&s->mem, b, sizeof *b);
  }
}

const sk_stats *sk_stack_stats(const sk_stack *s) {
  sk_stack *w = (sk_stack *)s; /* gauges are read from their sources */
  w->stats.memory = s->mem.bytes;
  w->stats.time_wait = s->tw.count;
  w->stats.alloc_failures = s->mem.failures;
  return &s->stats;
}

const sk_config *sk_stack_config(const sk_stack *s) { return &s->cfg; }

void sk_stack_set_trace(sk_stack *s, sk_trace_fn fn, void *ctx) {
  s->trace = fn;
  s->trace_ctx = ctx;
}

/* ---- the 4-tuple table --------------------------------------------------- */

uint32_t stack_hash(const sk_stack *s, uint64_t a, uint64_t b) {
  uint64_t x = a ^ s->hash_key[0];
  x *= 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  x ^= b ^ s->hash_key[1];
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return (uint32_t)x;
}

/* Keyed, so a peer choosing ports cannot aim every connection at one
 * chain. */
static uint32_t tuple_hash(const sk_stack *s, uint32_t raddr, uint16_t rport,
                           uint16_t lport) {
  return stack_hash(s, (uint64_t)raddr << 32 | (uint32_t)rport << 16 | lport,
                    0);
}

/* The chain of c's 4-tuple. */
static sk_conn **chain_of(const sk_stack *s, uint32_t raddr, uint16_t rport,
                          uint16_t lport) {
  return htab_slot(&s->conns, tuple_hash(s, raddr, rport, lport),
                   sizeof(sk_conn *));
}

sk_conn *conn_lookup(sk_stack *s, uint32_t raddr, uint16_t rport,
                     uint16_t lport) {
  sk_conn *c = *chain_of(s, raddr, rport, lport);
  while (c && !(c->raddr == raddr && c->rport == rport && c->lport == lport))
    c = c->hnext;
  return c;
}

static void move_chain(void *ctx, void *old_slot) {
  sk_stack *s = ctx;
  sk_conn *c = *(sk_conn **)old_slot, *next, **pp;
  *(sk_conn **)old_slot = NULL;
  for (; c; c = next) {
    next = c->hnext;
    pp = chain_of(s, c->raddr, c->rport, c->lport);
    c->hnext = *pp;
    *pp = c;
  }
}

int conn_hash_insert(sk_stack *s, sk_conn *c) {
  sk_conn **pp;
  htab_step(&s->conns, &s->mem, sizeof(sk_conn *), HTAB_STEP, move_chain, s);
  if (s->nconns >= 2 * s->conns.n) /* chains of two on average, at most */
    htab_grow(&s->conns, &s->mem, sizeof(sk_conn *), HASH_MIN, move_chain, s);
  pp = chain_of(s, c->raddr, c->rport, c->lport);
  c->hnext = *pp;
  *pp = c;
  s->nconns++;
  c->flags |= CF_IN_HASH;
  return 0;
}

void conn_hash_remove(sk_stack *s, sk_conn *c) {
  sk_conn **pp;
  if (!(c->flags & CF_IN_HASH))
    return;
  /* removals move buckets too: a table that only shrinks finishes */
  htab_step(&s->conns, &s->mem, sizeof(sk_conn *), HTAB_STEP, move_chain, s);
  pp = chain_of(s, c->raddr, c->rport, c->lport);
  while (*pp != c)
    pp = &(*pp)->hnext;
  *pp = c->hnext;
  c->hnext = NULL;
  s->nconns--;
  c->flags &= ~(uint32_t)CF_IN_HASH;
}

/* ---- output -------------------------------------------------------------- */

void stack_emit(sk_stack *s, uint64_t now, tcp_seg *seg) {
  size_t len;
  seg->ip_id = s->ip_id++;
  seg->ttl = s->cfg.ttl;
  seg->tos = 0;
  len = wire_build(seg, 0, s->obuf, s->obuf_size);
  if (len == 0) /* our own segments always fit; never send a bad one */
    return;
  s->stats.segments_out++;
  if (seg->flags & TCP_RST)
    s->stats.rst_sent++;
  if (s->trace)
    s->trace(s->trace_ctx, now, SK_DIR_OUT, s->obuf, len);
  s->out(s->out_ctx, s->obuf, len);
}

void sk_stack_send_raw(sk_stack *s, uint64_t now, const uint8_t *pkt,
                       size_t len) {
  if (s->trace)
    s->trace(s->trace_ctx, now, SK_DIR_OUT, pkt, len);
  s->out(s->out_ctx, pkt, len);
}

void stack_reset_reply(sk_stack *s, uint64_t now, const tcp_seg *in) {
  tcp_seg r;
  if (in->flags & TCP_RST) /* never answer a RST with a RST */
    return;
  memset(&r, 0, sizeof r);
  r.saddr = in->daddr;
  r.daddr = in->saddr;
  r.sport = in->dport;
  r.dport = in->sport;
  if (in->flags & TCP_ACK) {
    r.seq = in->ack; /* <SEQ=SEG.ACK><CTL=RST> */
    r.flags = TCP_RST;
  } else { /* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
    r.ack =
        in->seq + in->len + !!(in->flags & TCP_SYN) + !!(in->flags & TCP_FIN);
    r.flags = TCP_RST | TCP_ACK;
  }
  stack_emit(s, now, &r);
}

/* ---- input --------------------------------------------------------------- */

static const size_t drop_counter[] = {
#define X(n, str, counter) offsetof(sk_stats, counter),
    SK_DROPS(X)
#undef X
};

void stack_drop(sk_stack *s, uint64_t now, int reason) {
  *(uint64_t *)((char *)&s->stats + drop_counter[reason]) += 1;
  s->stats.drops[reason]++;
  if (s->trace)
    s->trace(s->trace_ctx, now, SK_DIR_DROP, NULL, (size_t)reason);
}

/* RFC 1122 §3.2.1.3: a host silently discards a datagram whose source is
 * not a host's address: "this network" (0/8), loopback (127/8) from the
 * wire, multicast (224/4) and the reserved and broadcast block (240/4). */
static int martian_source(uint32_t src, uint32_t us) {
  uint8_t net = (uint8_t)(src >> 24);
  return net == 0 || (net == 127 && us >> 24 != 127) || net >= 224;
}

/* What no connection may receive, before any lookup.  Replies to these
 * would go to a forged address (LAND: to ourselves), so there are none. */
static int screen(sk_stack *s, const tcp_seg *seg) {
  if (seg->daddr != s->cfg.addr)
    return SK_DROP_NOT_FOR_US;
  if (seg->saddr == s->cfg.addr)
    return SK_DROP_LAND;
  if (martian_source(seg->saddr, s->cfg.addr))
    return SK_DROP_BAD_SOURCE;
  /* SYN and FIN together ask to open and close at once: Linux drops it in
   * LISTEN, FreeBSD (drop_synfin) everywhere; so do we. */
  if ((seg->flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN))
    return SK_DROP_SYN_FIN;
  return -1;
}

void sk_stack_input(sk_stack *s, uint64_t now, const uint8_t *pkt, size_t len) {
  tcp_seg seg;
  sk_conn *c;
  sk_listener *l;
  uint32_t tw, old_snd_nxt = 0;
  int st, reopen = 0;
  if (s->trace)
    s->trace(s->trace_ctx, now, SK_DIR_IN, pkt, len);
  /* A bad checksum gets no reply at all: the addresses may be wrong. */
  if ((st = wire_parse(pkt, len, 1, &seg)) != WIRE_OK) {
    stack_drop(s, now, wire_drop_reason(st));
    return;
  }
  if ((st = screen(s, &seg)) >= 0) {
    stack_drop(s, now, st);
    return;
  }
  s->stats.segments_in++;
  if (seg.opts.has & (HAS_BAD_OPTION | HAS_ODD_OPTION))
    s->stats.bad_options++;
  if ((c = conn_lookup(s, seg.saddr, seg.sport, seg.dport)) != NULL)
    tcp_input(c, &seg, now);
  else if ((tw = tw_lookup(s, seg.saddr, seg.sport, seg.dport)) != 0 &&
           (reopen = !tw_input(s, tw, &seg, now, &old_snd_nxt)) == 0)
    ; /* TIME-WAIT answered it (or the SYN reopens it: go on) */
  else if ((l = listener_find(s, seg.dport)) != NULL)
    listener_input(l, &seg, now, reopen ? &old_snd_nxt : NULL);
  else { /* RFC 9293 §3.10.7.1: CLOSED */
    stack_drop(s, now, SK_DROP_NO_LISTENER);
    stack_reset_reply(s, now, &seg);
  }
}

/* ---- timers -------------------------------------------------------------- */

void sk_stack_poll(sk_stack *s, uint64_t now) {
  /* timer_fire moves each conn past `now` or out of the heap. */
  while (s->heap_len && s->heap[0]->deadline <= now)
    timer_fire(s->heap[0], now);
  tw_expire(s, now);
}

uint64_t sk_stack_deadline(const sk_stack *s) {
  uint64_t d = s->heap_len ? s->heap[0]->deadline : SK_NEVER, t;
  if ((t = tw_deadline(s)) < d)
    d = t;
  return d;
}

/* ---- events -------------------------------------------------------------- */

void ev_post(sk_stack *s, evnode *n, int event) {
  n->pending |= (uint8_t)(1u << event);
  if (n->queued)
    return;
  n->queued = 1;
  n->next = NULL;
  n->prev = s->ev_tail;
  if (s->ev_tail)
    s->ev_tail->next = n;
  else
    s->ev_head = n;
  s->ev_tail = n;
}

void ev_unlink(sk_stack *s, evnode *n) {
  if (!n->queued)
    return;
  if (n->prev)
    n->prev->next = n->next;
  else
    s->ev_head = n->next;
  if (n->next)
    n->next->prev = n->prev;
  else
    s->ev_tail = n->prev;
  n->prev = n->next = NULL;
  n->queued = 0;
}

int sk_stack_has_events(const sk_stack *s) {
  const evnode *n;
  for (n = s->ev_head; n; n = n->next)
    if (n->cb && n->pending)
      return 1;
  return 0;
}

static int next_event(evnode *n) {
  int ev;
  for (ev = 0; ev < SK_EV_COUNT; ev++)
    if (n->pending & (1u << ev))
      return ev;
  return -1;
}

/* Delivers every pending event of one node, in the order of the list in
 * synack.h.  The callback may call back into the stack, post new events,
 * or release the handle (which clears cb and stops the loop). */
static int deliver(sk_stack *s, evnode *n) {
  int count = 0, ev;
  (void)s;
  n->busy = 1;
  while (n->cb && (ev = next_event(n)) >= 0) {
    int arg = 0;
    if (n->kind == EV_CONN && ev == SK_EV_STATE) {
      sk_conn *c = (sk_conn *)n;
      if (c->log_len == 0) {
        n->pending &= (uint8_t) ~(1u << ev);
        continue;
      }
      arg = c->log[0][0] << 8 | c->log[0][1];
      c->ev_time = c->log_time[0];
      memmove(c->log[0], c->log[1], (size_t)(c->log_len - 1) * 2);
      memmove(c->log_time, c->log_time + 1,
              (size_t)(c->log_len - 1) * sizeof c->log_time[0]);
      if (--c->log_len == 0)
        n->pending &= (uint8_t) ~(1u << ev);
    } else {
      n->pending &= (uint8_t) ~(1u << ev);
      if (n->kind == EV_CONN && ev == SK_EV_CLOSED)
        arg = ((sk_conn *)n)->close_err;
    }
    n->cb(n->ud, ev, arg);
    count++;
  }
  n->busy = 0;
  return count;
}

int sk_stack_dispatch(sk_stack *s) {
  int count = 0;
  evnode *n;
  if (s->dispatching)
    return 0;
  s->dispatching = 1;
  while ((n = s->ev_head) != NULL) {
    ev_unlink(s, n);
    if (n->cb) /* else the events wait for an owner (unaccepted conns) */
      count += deliver(s, n);
    if (n->kind == EV_CONN)
      tcb_maybe_free((sk_conn *)n);
    else if (((sk_listener *)n)->stack == NULL) /* closed in its callback */
      mem_free(&s->mem, n, sizeof(sk_listener));
  }
  s->dispatching = 0;
  return count;
}

/* ---- connections(): the stack's ss -tan ---------------------------------- */

void sk_stack_connections(const sk_stack *s, uint64_t now, sk_visit_fn fn,
                          void *ctx) {
  const sk_listener *l;
  const sk_conn *c, *last = NULL;
  sk_info info;
  for (l = s->listeners; l; l = l->next) {
    sk_listener_info(l, &info);
    fn(ctx, &info);
  }
  /* oldest first: walk to the end of the newest-first list, then back */
  for (c = s->all; c; c = c->anext)
    last = c;
  for (c = last; c; c = c->aprev) {
    if (c->state == SK_CLOSED || c->tw) /* husks: their entry is listed */
      continue;
    sk_conn_info(c, now, &info);
    fn(ctx, &info);
  }
  tw_visit(s, now, fn, ctx);
}
