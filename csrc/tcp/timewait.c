/*
 * timewait.c — compact TIME-WAIT entries (see timewait.h), what they
 * answer (RFC 9293 §3.10.7.4 TIME-WAIT, RFC 1337, RFC 7323 PAWS), and
 * when a new connection may take over their 4-tuple (RFC 6191).
 */
#include <string.h>

#include "tcb.h"

#define MAX_LISTS 255

static tw_entry *entry(const tw_table *t, uint32_t i) {
  return &t->chunks[(i - 1) / TW_CHUNK][(i - 1) % TW_CHUNK];
}

/* Entries keep time in milliseconds of `now`, rounded up so that the wait
 * is never short; 32 bits wrap after 49 days, so they are compared like
 * sequence numbers. */
static uint32_t ms_ceil(uint64_t now) { return (uint32_t)((now + 999) / 1000); }
static int due(uint32_t expires, uint64_t now) {
  return (int32_t)((uint32_t)(now / 1000) - expires) >= 0;
}
static uint64_t usec_of(uint32_t expires, uint64_t now) {
  /* the µs time of `expires`, near `now` */
  return now - now % 1000 +
         (uint64_t)(int64_t)(int32_t)(expires - (uint32_t)(now / 1000)) * 1000;
}

/* ---- the pool ------------------------------------------------------------ */

static uint32_t tw_alloc(sk_stack *s) {
  tw_table *t = &s->tw;
  uint32_t i;
  if (!t->free) { /* a new chunk, threaded onto the free list */
    tw_entry **chunks, *chunk;
    uint32_t k, base = t->nchunks * TW_CHUNK;
    chunks = mem_realloc(&s->mem, t->chunks, t->nchunks * sizeof *chunks,
                         (t->nchunks + 1) * sizeof *chunks);
    if (!chunks)
      return 0;
    t->chunks = chunks;
    if (!(chunk = mem_alloc(&s->mem, TW_CHUNK * sizeof *chunk)))
      return 0;
    chunks[t->nchunks++] = chunk;
    for (k = 0; k < TW_CHUNK; k++)
      chunk[k].next = k + 1 < TW_CHUNK ? base + k + 2 : t->free;
    t->free = base + 1;
  }
  i = t->free;
  t->free = entry(t, i)->next;
  t->count++;
  return i;
}

static void tw_release(sk_stack *s, uint32_t i) {
  tw_table *t = &s->tw;
  entry(t, i)->next = t->free;
  t->free = i;
  t->count--;
}

/* ---- the 4-tuple hash
 * -------------------------------------------------------- */

/* The chain of a 4-tuple: the index of its first entry. */
static uint32_t *chain_of(const sk_stack *s, uint32_t raddr, uint16_t rport,
                          uint16_t lport) {
  return htab_slot(
      &s->tw.hash,
      stack_hash(s, (uint64_t)raddr << 32 | (uint32_t)rport << 16 | lport, 2),
      sizeof(uint32_t));
}

static void move_chain(void *ctx, void *old_slot) {
  sk_stack *s = ctx;
  uint32_t i = *(uint32_t *)old_slot, next, *pp;
  *(uint32_t *)old_slot = 0;
  for (; i; i = next) {
    tw_entry *e = entry(&s->tw, i);
    next = e->hnext;
    pp = chain_of(s, e->raddr, e->rport, e->lport);
    e->hnext = *pp;
    *pp = i;
  }
}

uint32_t tw_lookup(const sk_stack *s, uint32_t raddr, uint16_t rport,
                   uint16_t lport) {
  const tw_table *t = &s->tw;
  uint32_t i;
  if (!t->count)
    return 0;
  for (i = *chain_of(s, raddr, rport, lport); i; i = entry(t, i)->hnext) {
    const tw_entry *e = entry(t, i);
    if (e->raddr == raddr && e->rport == rport && e->lport == lport)
      return i;
  }
  return 0;
}

static void hash_remove(sk_stack *s, uint32_t i) {
  tw_table *t = &s->tw;
  tw_entry *e = entry(t, i);
  uint32_t *pp;
  htab_step(&t->hash, &s->mem, sizeof(uint32_t), HTAB_STEP, move_chain, s);
  pp = chain_of(s, e->raddr, e->rport, e->lport);
  while (*pp != i)
    pp = &entry(t, *pp)->hnext;
  *pp = e->hnext;
}

/* ---- the FIFOs
 * ---------------------------------------------------------------- */

static int list_for(sk_stack *s, uint32_t duration) {
  tw_table *t = &s->tw;
  tw_list *l;
  int k;
  for (k = 0; k < t->nlists; k++)
    if (t->lists[k].duration == duration)
      return k;
  if (t->nlists == MAX_LISTS)
    return -1;
  l = mem_realloc(&s->mem, t->lists, t->nlists * sizeof *l,
                  (t->nlists + 1u) * sizeof *l);
  if (!l)
    return -1;
  t->lists = l;
  l[t->nlists].duration = duration;
  l[t->nlists].head = l[t->nlists].tail = 0;
  return t->nlists++;
}

static void fifo_append(tw_table *t, uint32_t i) {
  tw_entry *e = entry(t, i);
  tw_list *l = &t->lists[e->list];
  e->next = 0;
  e->prev = l->tail;
  if (l->tail)
    entry(t, l->tail)->next = i;
  else
    l->head = i;
  l->tail = i;
}

static void fifo_remove(tw_table *t, uint32_t i) {
  tw_entry *e = entry(t, i);
  tw_list *l = &t->lists[e->list];
  if (e->prev)
    entry(t, e->prev)->next = e->next;
  else
    l->head = e->next;
  if (e->next)
    entry(t, e->next)->prev = e->prev;
  else
    l->tail = e->prev;
}

/* ---- entering and leaving
 * -------------------------------------------------------- */

/* ---- handles still held ----------------------------------------------------
 */

static int husk_add(sk_stack *s, uint32_t i, sk_conn *c) {
  tw_table *t = &s->tw;
  if (t->nhusks == t->husks_size) {
    uint32_t n = t->husks_size ? t->husks_size * 2 : 16;
    sk_conn **h = mem_realloc(&s->mem, t->husks, t->husks_size * sizeof *h,
                              n * sizeof *h);
    if (!h)
      return 0;
    t->husks = h;
    t->husks_size = n;
  }
  t->husks[t->nhusks++] = c;
  entry(t, i)->husk = t->nhusks;
  c->tw = i;
  return 1;
}

/* Takes entry i's husk off the list (the last one moves into its slot). */
static sk_conn *husk_take(sk_stack *s, uint32_t i) {
  tw_table *t = &s->tw;
  tw_entry *e = entry(t, i);
  sk_conn *c, *last;
  if (!e->husk)
    return NULL;
  c = t->husks[e->husk - 1];
  last = t->husks[--t->nhusks];
  if (last != c) {
    t->husks[e->husk - 1] = last;
    entry(t, last->tw)->husk = e->husk;
  }
  e->husk = 0;
  c->tw = 0;
  if (t->nhusks == 0) { /* none held: the list goes */
    mem_free(&s->mem, t->husks, t->husks_size * sizeof *t->husks);
    t->husks = NULL;
    t->husks_size = 0;
  }
  return c;
}

/* The entry is gone: a handle still held learns it is CLOSED. */
static void tw_drop(sk_stack *s, uint32_t i, uint64_t now) {
  sk_conn *husk = husk_take(s, i);
  hash_remove(s, i);
  fifo_remove(&s->tw, i);
  tw_release(s, i);
  if (s->tw.count == 0 && !s->tw.nhusks) { /* idle again: give it all back */
    uint64_t keep = s->tw.now;
    tw_free_all(s);
    s->tw.now = keep;
  }
  if (husk)
    tcb_set_state(husk, SK_CLOSED, now);
}

/* Replaces c's TIME-WAIT with an entry.  Returns 1 when c is now a husk
 * or freed, 0 when the table is full (the caller skips TIME-WAIT). */
int tw_enter(sk_stack *s, sk_conn *c, uint64_t now) {
  tw_table *t = &s->tw;
  uint32_t duration = (uint32_t)((2 * (uint64_t)c->prm->msl + 999) / 1000);
  int list = list_for(s, duration);
  uint32_t i, *pp;
  tw_entry *e;
  t->now = now;
  if (t->count >= s->cfg.max_time_wait || list < 0 || !(i = tw_alloc(s)))
    return 0;
  htab_step(&t->hash, &s->mem, sizeof(uint32_t), HTAB_STEP, move_chain, s);
  if (t->count > t->hash.n) /* chains of one on average, at most */
    htab_grow(&t->hash, &s->mem, sizeof(uint32_t), 64, move_chain, s);
  if (!t->hash.n) {
    tw_release(s, i);
    return 0;
  }
  e = entry(t, i);
  memset(e, 0, sizeof *e);
  e->raddr = c->raddr;
  e->rport = c->rport;
  e->lport = c->lport;
  e->snd_nxt = c->snd_max;
  e->rcv_nxt = c->rcv_nxt;
  e->ts_recent = c->ts_recent;
  e->flags = (uint8_t)(((c->flags & CF_TS) ? TWF_TS : 0) | c->rcv_wscale << 4);
  e->win = (uint16_t)(tcb_rcv_window(c) >> c->rcv_wscale);
  e->expires = ms_ceil(now) + duration;
  e->list = (uint8_t)list;
  pp = chain_of(s, e->raddr, e->rport, e->lport);
  e->hnext = *pp;
  *pp = i;
  fifo_append(t, i);
  if ((c->flags & CF_USER) && !husk_add(s, i, c)) { /* the owner's handle */
    tw_drop(s, i, now);
    return 0;
  }
  return 1;
}

/* The owner let go of a husk: the entry lives on alone; or aborted it:
 * the entry goes too (ABORT in TIME-WAIT deletes the TCB, §3.10.5). */
void tw_forget_husk(sk_stack *s, sk_conn *c, int remove, uint64_t now) {
  uint32_t i = c->tw;
  if (!i)
    return;
  husk_take(s, i);
  if (remove)
    tw_drop(s, i, now);
}

uint64_t tw_expires(const sk_stack *s, const sk_conn *c, uint64_t now) {
  return c->tw ? usec_of(entry(&s->tw, c->tw)->expires, now) : 0;
}

void tw_expire(sk_stack *s, uint64_t now) {
  tw_table *t = &s->tw;
  int k;
  t->now = now;
  for (k = 0; k < t->nlists; k++) /* a drop may free the lists: recheck */
    while (k < t->nlists && t->lists[k].head &&
           due(entry(t, t->lists[k].head)->expires, now))
      tw_drop(s, t->lists[k].head, now);
}

/* The earliest expiry: the heads of the FIFOs.  `now` places the
 * wrapping millisecond clock; the sim and the live drivers poll often
 * enough that a head is never 24 days away. */
uint64_t tw_deadline(const sk_stack *s) {
  const tw_table *t = &s->tw;
  uint64_t now = t->now;
  uint64_t d = SK_NEVER;
  int k;
  for (k = 0; k < t->nlists; k++)
    if (t->lists[k].head) {
      uint64_t u = usec_of(entry(t, t->lists[k].head)->expires, now);
      if (u < d)
        d = u;
    }
  return d;
}

void tw_free_all(sk_stack *s) {
  tw_table *t = &s->tw;
  uint32_t k;
  for (k = 0; k < t->nchunks; k++)
    mem_free(&s->mem, t->chunks[k], TW_CHUNK * sizeof(tw_entry));
  mem_free(&s->mem, t->chunks, t->nchunks * sizeof *t->chunks);
  htab_free(&t->hash, &s->mem, sizeof(uint32_t));
  mem_free(&s->mem, t->lists, t->nlists * sizeof *t->lists);
  mem_free(&s->mem, t->husks, t->husks_size * sizeof *t->husks);
  memset(t, 0, sizeof *t);
}

void tw_visit(const sk_stack *s, uint64_t now, sk_visit_fn fn, void *ctx) {
  const tw_table *t = &s->tw;
  sk_info info;
  int k;
  uint32_t i;
  for (k = 0; k < t->nlists; k++)
    for (i = t->lists[k].head; i; i = entry(t, i)->next) {
      const tw_entry *e = entry(t, i);
      memset(&info, 0, sizeof info);
      info.state = SK_TIME_WAIT;
      info.local_addr = s->cfg.addr;
      info.local_port = e->lport;
      info.remote_addr = e->raddr;
      info.remote_port = e->rport;
      info.snd_una = info.snd_nxt = e->snd_nxt;
      info.rcv_nxt = e->rcv_nxt;
      info.snd_wscale = info.rcv_wscale = -1;
      info.timestamps = (e->flags & TWF_TS) != 0;
      info.expires_in =
          due(e->expires, now) ? 0 : usec_of(e->expires, now) - now;
      fn(ctx, &info);
    }
}

/* ---- segments for a TIME-WAIT 4-tuple
 * ----------------------------------------- */

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with timestamps if they were used. */
static void tw_ack(sk_stack *s, const tw_entry *e, uint64_t now) {
  uint8_t opts[TCP_OPT_MAX];
  tcp_opts o;
  tcp_seg seg;
  memset(&seg, 0, sizeof seg);
  memset(&o, 0, sizeof o);
  seg.saddr = s->cfg.addr;
  seg.daddr = e->raddr;
  seg.sport = e->lport;
  seg.dport = e->rport;
  seg.seq = e->snd_nxt;
  seg.ack = e->rcv_nxt;
  seg.flags = TCP_ACK;
  seg.win = e->win;
  if (e->flags & TWF_TS) {
    o.has = HAS_TS;
    o.ts_val = (uint32_t)(now / 1000) +
               tcb_ts_offset(s, s->cfg.addr, e->lport, e->raddr, e->rport);
    o.ts_ecr = e->ts_recent;
  }
  seg.raw_opts = opts;
  seg.raw_opts_len = (uint8_t)wire_build_options(&o, opts, sizeof opts);
  stack_emit(s, now, &seg);
}

/* RFC 6191 §2: a SYN may reopen the 4-tuple when it cannot be an old
 * duplicate: its timestamp is newer than the last one seen (when they
 * were used), or else its sequence number is beyond RCV.NXT. */
static int syn_is_new(const tw_entry *e, const tcp_seg *seg) {
  if ((e->flags & TWF_TS) && (seg->opts.has & HAS_TS))
    return seq_gt(seg->opts.ts_val, e->ts_recent);
  return seq_gt(seg->seq, e->rcv_nxt);
}

/* A segment for the 4-tuple of entry i.  Returns 1 when handled here, 0
 * when the entry made way for a new connection: the caller hands the SYN
 * on to the listener, with *old_snd_nxt, above which the new incarnation's
 * ISN must lie (RFC 1122 §4.2.2.13). */
int tw_input(sk_stack *s, uint32_t i, const tcp_seg *seg, uint64_t now,
             uint32_t *old_snd_nxt) {
  tw_entry *e = entry(&s->tw, i);
  uint32_t wnd;
  s->tw.now = now;
  if (seg->flags & TCP_RST) {
    /* RFC 1337: an RST must not end TIME-WAIT early (TIME-WAIT
     * assassination); without that protection, RFC 9293 resets on an
     * exact sequence number. */
    if (!s->cfg.rfc1337 && seg->seq == e->rcv_nxt)
      tw_drop(s, i, now);
    else
      stack_drop(s, now, SK_DROP_BAD_RST);
    return 1;
  }
  if ((seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
    if (syn_is_new(e, seg)) {
      s->stats.time_wait_reused++;
      *old_snd_nxt = e->snd_nxt;
      tw_drop(s, i, now);
      return 0;
    }
    stack_drop(s, now, SK_DROP_OLD_SYN);
    tw_ack(s, e, now); /* an old duplicate: RFC 5961 §4's challenge ACK */
    s->stats.challenge_acks++;
    return 1;
  }
  if ((e->flags & TWF_TS) && (seg->opts.has & HAS_TS) &&
      seq_lt(seg->opts.ts_val, e->ts_recent)) { /* RFC 7323 §5.3 PAWS */
    stack_drop(s, now, SK_DROP_PAWS);
    tw_ack(s, e, now);
    return 1;
  }
  if (seg->flags & TCP_FIN) {
    /* the peer's FIN again (our last ACK was lost): acknowledge it and
     * restart the 2 MSL wait (RFC 9293 §3.10.7.4) */
    tw_ack(s, e, now);
    e->expires = ms_ceil(now) + s->tw.lists[e->list].duration;
    fifo_remove(&s->tw, i);
    fifo_append(&s->tw, i);
    return 1;
  }
  /* the acceptability test of §3.10.7.4, with the window we offered */
  wnd = (uint32_t)e->win << (e->flags >> 4);
  if (seg->len
          ? !seq_in(seg->seq, e->rcv_nxt, e->rcv_nxt + wnd) &&
                !seq_in(seg->seq + seg->len - 1, e->rcv_nxt, e->rcv_nxt + wnd)
          : seg->seq != e->rcv_nxt) {
    stack_drop(s, now, SK_DROP_OUT_OF_WINDOW);
    tw_ack(s, e, now); /* not acceptable: "send an acknowledgment" */
  }
  return 1; /* a bare ACK, or text, which TIME-WAIT ignores */
}

/* May our own new connection take the 4-tuple of a TIME-WAIT entry (RFC
 * 6056 §2.3)?  Only when old segments cannot be taken for new ones: both
 * incarnations use timestamps, so the peer's PAWS tells them apart (our
 * clock only grows), and the entry is at least a second old, so that
 * clock has moved past anything still in flight: Linux's tcp_tw_reuse.
 * Without timestamps the port stays taken until the entry expires, and a
 * client that opens connections fast enough runs out of ports. */
int tw_port_free(sk_stack *s, uint32_t raddr, uint16_t rport, uint16_t lport,
                 int ts, uint64_t now) {
  uint32_t i = tw_lookup(s, raddr, rport, lport);
  tw_entry *e;
  uint32_t born;
  if (!i)
    return 1;
  e = entry(&s->tw, i);
  born = e->expires - s->tw.lists[e->list].duration;
  if (!ts || !(e->flags & TWF_TS) || !due(born + 1000, now))
    return 0;
  s->stats.time_wait_reused++;
  tw_drop(s, i, now);
  return 1;
}
