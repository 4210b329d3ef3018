/*
 * timer.c — per-connection timers and the stack's heap of deadlines.
 *
 * A conn has a few timers (retransmission, delayed ACK, 2 MSL); its
 * deadline is the earliest, and the stack keeps every conn with a deadline
 * in a binary min-heap, so sk_stack_deadline() is O(1) and firing is
 * O(log n).  No real clock: `now` always comes from the caller.
 */
#include "tcb.h"

int heap_reserve(sk_stack *s, uint32_t n) {
  uint32_t cap = s->heap_cap ? s->heap_cap : 16;
  sk_conn **h;
  if (n <= s->heap_cap)
    return 1;
  while (cap < n)
    cap *= 2;
  h = mem_realloc(&s->mem, s->heap, s->heap_cap * sizeof *h, cap * sizeof *h);
  if (!h)
    return 0;
  s->heap = h;
  s->heap_cap = cap;
  return 1;
}

static void heap_put(sk_stack *s, uint32_t i, sk_conn *c) {
  s->heap[i] = c;
  c->heap_idx = i;
}

static void sift_up(sk_stack *s, uint32_t i) {
  sk_conn *c = s->heap[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (s->heap[parent]->deadline <= c->deadline)
      break;
    heap_put(s, i, s->heap[parent]);
    i = parent;
  }
  heap_put(s, i, c);
}

static void sift_down(sk_stack *s, uint32_t i) {
  sk_conn *c = s->heap[i];
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = l;
    if (l >= s->heap_len)
      break;
    if (r < s->heap_len && s->heap[r]->deadline < s->heap[l]->deadline)
      m = r;
    if (c->deadline <= s->heap[m]->deadline)
      break;
    heap_put(s, i, s->heap[m]);
    i = m;
  }
  heap_put(s, i, c);
}

void heap_remove(sk_stack *s, sk_conn *c) {
  uint32_t i = c->heap_idx;
  sk_conn *last;
  if (i == HEAP_NONE)
    return;
  c->heap_idx = HEAP_NONE;
  last = s->heap[--s->heap_len];
  if (last == c)
    return;
  heap_put(s, i, last);
  sift_up(s, i);
  sift_down(s, last->heap_idx);
}

/* Recomputes the conn's deadline and its place in the heap. */
static void reschedule(sk_conn *c) {
  sk_stack *s = c->stack;
  uint64_t d = SK_NEVER;
  int i;
  for (i = 0; i < T_COUNT; i++)
    if (c->timer[i] < d)
      d = c->timer[i];
  if (d == c->deadline)
    return;
  c->deadline = d;
  if (d == SK_NEVER) {
    heap_remove(s, c);
    return;
  }
  if (c->heap_idx == HEAP_NONE) { /* room was reserved by tcb_new */
    s->heap_len++;
    heap_put(s, s->heap_len - 1, c);
    sift_up(s, c->heap_idx);
    return;
  }
  sift_up(s, c->heap_idx);
  sift_down(s, c->heap_idx);
}

void timer_set(sk_conn *c, int which, uint64_t when) {
  c->timer[which] = when;
  reschedule(c);
}

void timer_clear(sk_conn *c, int which) {
  if (c->timer[which] == SK_NEVER)
    return;
  c->timer[which] = SK_NEVER;
  reschedule(c);
}

void timer_clear_all(sk_conn *c) {
  int i;
  for (i = 0; i < T_COUNT; i++)
    c->timer[i] = SK_NEVER;
  reschedule(c);
}

/* The reason a connection that timed out ended: ETIMEDOUT, or the ICMP
 * error heard on the way (RFC 1122 §4.2.3.9). */
static int timeout_err(const sk_conn *c) {
  return c->soft_err ? c->soft_err : SK_ETIMEDOUT;
}

static void timed_out(sk_conn *c, uint64_t now) {
  c->stack->stats.conns_timed_out++;
  tcb_closed(c, timeout_err(c), now);
}

static void persist_timeout(sk_conn *c, uint64_t now);

/* RFC 6298 (5.4)-(5.6) and RFC 9293 §3.8.3: retransmit the earliest
 * segment not acknowledged, back off, and give up after the configured
 * number of tries (R2) with ETIMEDOUT.  Congestion control starts over
 * from one segment (RFC 5681 §3.1), resending from SND.UNA. */
static void rtx_timeout(sk_conn *c, uint64_t now) {
  int limit = c->state == SK_SYN_SENT       ? c->prm->syn_retries
              : c->state == SK_SYN_RECEIVED ? c->prm->synack_retries
                                            : c->prm->retries;
  c->stack->stats.timeouts++;
  if (c->snd_wnd == 0 && (c->flags & CF_SYN_ACKED)) {
    /* Nothing can be resent into a closed window: what is outstanding is
     * probed instead, and counts as probes, which a live peer answers
     * (RFC 1122 §4.2.2.17: the connection stays open meanwhile). */
    c->flags |= CF_PROBING;
    c->flags &= ~(uint32_t)CF_TIMING;
    c->snd_nxt = c->snd_una;
    persist_timeout(c, now);
    return;
  }
  if (c->backoff >= limit) {
    timed_out(c, now);
    return;
  }
  if (c->flags & CF_SYN_ACKED) {
    cc_on_timeout(c);
    sack_forget(c); /* RFC 2018 §8: the receiver may have reneged */
  }
  c->backoff++;
  rtt_backoff(c);
  c->flags &= ~(uint32_t)CF_TIMING; /* Karn: no sample across it */
  c->snd_nxt = (c->flags & CF_SYN_ACKED) ? c->snd_una : c->iss;
  tcp_output(c, now);
  if (c->timer[T_RTX] == SK_NEVER && c->snd_una != c->snd_max)
    timer_set(c, T_RTX, now + c->rto); /* nothing went: keep the clock */
}

/* The persist timer: probe, back off, and give up only when `retries`
 * probes in a row go unanswered (a peer that answers may keep its window
 * closed for ever, RFC 1122 §4.2.2.17). */
static void persist_timeout(sk_conn *c, uint64_t now) {
  if (c->probes >= c->prm->retries) {
    timed_out(c, now);
    return;
  }
  tcp_persist_probe(c, now);
  if (c->backoff < 30)
    c->backoff++;
  tcp_output(c, now); /* re-arms the timer while it is needed */
}

/* RFC 1122 §4.2.3.6: after `idle` without a segment from the peer, probe
 * every `interval`; `count` probes unanswered end the connection, with a
 * RST as Linux does.  Not while data is outstanding: the retransmission
 * timer watches the peer then. */
static void keepalive_timeout(sk_conn *c, uint64_t now) {
  const sk_params *p = c->prm;
  if (c->state != SK_ESTABLISHED && c->state != SK_CLOSE_WAIT)
    return;
  if (c->snd_una != c->snd_max || c->sndq.len) {
    timer_set(c, T_KEEPALIVE, now + p->keepalive_idle);
    return;
  }
  if (c->probes == 0 && now - c->last_recv < p->keepalive_idle) {
    timer_set(c, T_KEEPALIVE, c->last_recv + p->keepalive_idle);
    return;
  }
  if (c->probes >= p->keepalive_count) {
    tcb_abort(c, timeout_err(c), now);
    c->stack->stats.conns_timed_out++;
    return;
  }
  tcp_keepalive_probe(c, now);
  timer_set(c, T_KEEPALIVE, now + p->keepalive_interval);
}

void timer_fire(sk_conn *c, uint64_t now) {
  uint8_t was_busy = c->ev.busy;
  c->ev.busy = 1;
  if (c->timer[T_WAIT] <= now) {
    timer_clear(c, T_WAIT);
    if (c->state == SK_FIN_WAIT_2) { /* the peer never sent its FIN */
      c->stack->stats.conns_timed_out++;
      tcb_abort(c, SK_ETIMEDOUT, now);
    } else
      tcb_closed(c, SK_OK, now); /* TIME-WAIT is over */
  }
  if (c->state != SK_CLOSED && c->timer[T_DELACK] <= now) {
    timer_clear(c, T_DELACK);
    tcp_send_ack(c, now);
  }
  if (c->state != SK_CLOSED && c->timer[T_RTX] <= now) {
    timer_clear(c, T_RTX);
    rtx_timeout(c, now);
  }
  if (c->state != SK_CLOSED && c->timer[T_PERSIST] <= now) {
    timer_clear(c, T_PERSIST);
    persist_timeout(c, now);
  }
  if (c->state != SK_CLOSED && c->timer[T_KEEPALIVE] <= now) {
    timer_clear(c, T_KEEPALIVE);
    keepalive_timeout(c, now);
  }
  c->ev.busy = was_busy;
  tcb_maybe_free(c);
}
