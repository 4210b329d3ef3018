/*
 * tcb.c — the life of a transmission control block: creation, options
 * agreed in the SYNs, state changes, entering TIME-WAIT and CLOSED, and
 * freeing.
 */
#include <string.h>

#include "tcb.h"

sk_conn *tcb_new(sk_stack *s, const sk_params *prm) {
  sk_conn *c;
  int i;
  /* Reserve the conn's heap slot now, so arming a timer never fails. */
  if (!heap_reserve(s, s->nconns + 1))
    return NULL;
  if (!(c = mem_calloc(&s->mem, sizeof *c)))
    return NULL;
  if (!(c->prm = params_get(s, prm))) {
    mem_free(&s->mem, c, sizeof *c);
    return NULL;
  }
  c->ev.kind = EV_CONN;
  c->stack = s;
  c->state = SK_CLOSED;
  c->heap_idx = HEAP_NONE;
  c->deadline = SK_NEVER;
  for (i = 0; i < T_COUNT; i++)
    c->timer[i] = SK_NEVER;
  c->snd_mss = 536;
  c->rcv_mss = prm->mss < 536 ? prm->mss : 536;
  rtt_init(c);
  c->anext = s->all;
  if (s->all)
    s->all->aprev = c;
  s->all = c;
  return c;
}

/* The smallest shift that lets the window cover the receive buffer
 * (RFC 7323 §2.3), unless one was configured. */
uint8_t tcb_our_wscale(const sk_params *p) {
  uint8_t s = 0;
  if (p->wscale >= 0)
    return (uint8_t)p->wscale;
  while (s < 14 && (p->rcvbuf >> s) > 65535)
    s++;
  return s;
}

/* RFC 7323 §5.4: a random offset per connection for the timestamp clock,
 * from the stack's secret and the 4-tuple (so TIME-WAIT can find it
 * again without keeping it). */
uint32_t tcb_ts_offset(const sk_stack *s, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport) {
  return (uint32_t)(tuple_secret(s, laddr, lport, raddr, rport) >> 32);
}

uint64_t tcb_set_tuple(sk_conn *c, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport) {
  uint64_t secret = tuple_secret(c->stack, laddr, lport, raddr, rport);
  c->laddr = laddr;
  c->lport = lport;
  c->raddr = raddr;
  c->rport = rport;
  c->ts_offset = (uint32_t)(secret >> 32);
  if (c->prm->wscale != SK_WSCALE_OFF)
    c->rcv_wscale = tcb_our_wscale(c->prm);
  return secret;
}

uint32_t tcb_ts_now(const sk_conn *c, uint64_t now) {
  return (uint32_t)(now / 1000) + c->ts_offset; /* 1 ms ticks (§5.4) */
}

/* The peer's SYN decides the options both sides use: window scaling and
 * timestamps only when both SYNs carried them (RFC 7323 §2.2, §3.2), the
 * peer's MSS or 536 (RFC 9293 §3.7.1), less the timestamp option's room
 * (RFC 6691). */
void tcb_syn_options(sk_conn *c, const tcp_seg *seg, uint64_t now) {
  const tcp_opts *o = &seg->opts;
  uint32_t mss = (o->has & HAS_MSS) ? o->mss : 536;
  if ((o->has & HAS_WSCALE) && c->prm->wscale != SK_WSCALE_OFF) {
    c->flags |= CF_WSCALE;
    c->snd_wscale = o->wscale > 14 ? 14 : o->wscale; /* §2.3: at most 14 */
  } else {
    c->flags &= ~(uint32_t)CF_WSCALE;
    c->snd_wscale = c->rcv_wscale = 0;
  }
  if ((o->has & HAS_SACK_PERM) && c->prm->sack)
    c->flags |= CF_SACK; /* RFC 2018 §2: both SYNs said SACK-permitted */
  else
    c->flags &= ~(uint32_t)CF_SACK;
  if ((o->has & HAS_TS) && c->prm->timestamps) {
    c->flags |= CF_TS;
    c->ts_recent = o->ts_val;
    c->ts_recent_age = (uint32_t)(now / 1000000);
  } else
    c->flags &= ~(uint32_t)CF_TS;
  if (mss > c->prm->mss)
    mss = c->prm->mss;
  /* A tiny MSS would turn one write into thousands of segments; Linux
   * refuses to go below 48 (net.ipv4.tcp_min_snd_mss) and so do we, after
   * the timestamps' 12 octets are taken off. */
  if (c->flags & CF_TS)
    mss = mss > 48 + 12 ? mss - 12 : 48;
  if (mss < 48)
    mss = 48;
  c->snd_mss = mss;
}

void tcb_set_state(sk_conn *c, int state, uint64_t now) {
  if (c->state == state)
    return;
  if (c->log_len == STATE_LOG) { /* undelivered: keep the chain, lose a step */
    c->log[STATE_LOG - 1][1] = (uint8_t)state;
    c->log_time[STATE_LOG - 1] = now;
  } else {
    c->log[c->log_len][0] = c->state;
    c->log[c->log_len][1] = (uint8_t)state;
    c->log_time[c->log_len] = now;
    c->log_len++;
  }
  c->state = (uint8_t)state;
  ev_post(c->stack, &c->ev, SK_EV_STATE);
}

static void post_close(sk_conn *c, int err) {
  if (c->flags & CF_CLOSE_POSTED)
    return;
  c->flags |= CF_CLOSE_POSTED;
  c->close_err = (int8_t)err;
  ev_post(c->stack, &c->ev, SK_EV_CLOSED);
}

void tcb_closed(sk_conn *c, int err, uint64_t now) {
  sk_stack *s = c->stack;
  if (c->state == SK_CLOSED)
    return;
  tw_forget_husk(s, c, 1, now); /* an aborted husk takes its entry along */
  timer_clear_all(c);
  conn_hash_remove(s, c);
  if (c->listener)
    listener_child_gone(c->listener, c);
  ring_free(&c->sndq, &s->mem);
  asm_free(&c->ooo, &s->mem);
  asm_free(&c->sacked, &s->mem);
  /* After an orderly end the owner may still read what arrived. */
  if (err != SK_OK || !(c->flags & CF_USER) || (c->flags & CF_READ_CLOSED))
    ring_free(&c->rcvq, &s->mem);
  tcb_set_state(c, SK_CLOSED, now);
  post_close(c, err); /* once: TIME-WAIT has already told the owner */
  tcb_maybe_free(c);
}

/* RFC 9293 §3.10.5 ABORT and every other reset of our own: a RST where
 * the peer may still hold a synchronized connection, then CLOSED. */
void tcb_abort(sk_conn *c, int err, uint64_t now) {
  switch (c->state) {
  case SK_SYN_RECEIVED:
  case SK_ESTABLISHED:
  case SK_FIN_WAIT_1:
  case SK_FIN_WAIT_2:
  case SK_CLOSE_WAIT:
    tcp_send_rst(c, now);
    break;
  default: /* SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: no RST */
    break;
  }
  c->flags |= CF_READ_CLOSED;
  tcb_closed(c, err, now);
}

/* FIN-WAIT-2 waits for the peer's FIN, which a dead or hostile peer never
 * sends.  Once the owner has closed the connection nobody would ever learn
 * of it, so it ends after fin_timeout with a RST, as in Linux. */
void tcb_fin_wait_2(sk_conn *c, uint64_t now) {
  if (c->state != SK_FIN_WAIT_2)
    tcb_set_state(c, SK_FIN_WAIT_2, now);
  if ((c->flags & CF_READ_CLOSED) && c->timer[T_WAIT] == SK_NEVER)
    timer_set(c, T_WAIT, now + c->prm->fin_timeout);
}

/* RFC 9293 §3.10.7.4: the connection waits 2 MSL so that late segments of
 * this incarnation die out before the 4-tuple can be used again.  The
 * wait is kept by a compact entry (timewait.c); the control block and its
 * buffers go, but for a small handle when the owner still holds one.  Past
 * max_time_wait entries, TIME-WAIT is skipped, as Linux does. */
void tcb_enter_time_wait(sk_conn *c, uint64_t now) {
  sk_stack *s = c->stack;
  /* The peer's FIN is acknowledged now (§3.10.7.4 eighth): a connection
   * nobody holds any more has no later output to carry the ACK. */
  if (c->flags & CF_ACK_NOW)
    tcp_send_ack(c, now);
  post_close(c, SK_OK);
  if (!tw_enter(s, c, now)) {
    s->stats.time_wait_overflow++;
    tcb_closed(c, SK_OK, now);
    return;
  }
  timer_clear_all(c);
  conn_hash_remove(s, c);
  ring_free(&c->sndq, &s->mem);
  asm_free(&c->ooo, &s->mem);
  asm_free(&c->sacked, &s->mem);
  if (c->flags & CF_USER) { /* a husk: the owner may still read */
    tcb_set_state(c, SK_TIME_WAIT, now);
    return;
  }
  c->state = SK_CLOSED; /* nobody to tell: the entry is all that remains */
  tcb_maybe_free(c);
}

void tcb_maybe_free(sk_conn *c) {
  sk_stack *s = c->stack;
  if (c->state != SK_CLOSED || (c->flags & CF_USER) || c->ev.busy ||
      c->listener)
    return;
  ev_unlink(s, &c->ev);
  if (c->aprev)
    c->aprev->anext = c->anext;
  else
    s->all = c->anext;
  if (c->anext)
    c->anext->aprev = c->aprev;
  tcb_free(c);
  if (!s->all) /* the last connection: no buffer will be wanted soon */
    mem_cache_flush(&s->mem);
}

void tcb_free(sk_conn *c) {
  sk_stack *s = c->stack;
  ring_free(&c->sndq, &s->mem);
  ring_free(&c->rcvq, &s->mem);
  asm_free(&c->ooo, &s->mem);
  asm_free(&c->sacked, &s->mem);
  params_put(s, c->prm);
  mem_free(&s->mem, c, sizeof *c);
}

/* The window we offer: free space in the receive buffer, within what the
 * window field can say.  Its right edge never moves left, and moves right
 * only by a real amount, min(half the buffer, one MSS): receiver-side
 * silly window avoidance (RFC 9293 §3.8.6.2.2). */
uint32_t tcb_rcv_window(const sk_conn *c) {
  uint32_t cap = c->prm->rcvbuf, used = c->rcvq.len;
  uint32_t avail = cap > used ? cap - used : 0;
  uint32_t max = 65535u << c->rcv_wscale;
  uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
  uint32_t step = cap / 2 < c->prm->mss ? cap / 2 : c->prm->mss;
  if (avail > max)
    avail = max;
  if (avail <= cur)
    return cur;
  return avail - cur < step ? cur : avail;
}

void tcb_established(sk_conn *c, uint64_t now) {
  c->stack->stats.conns_opened++;
  cc_init(c);
  /* RFC 6298 (5.7): the SYN or SYN-ACK timed out and no valid sample
   * came out of the handshake (Karn): start the data with an RTO of 3 s. */
  if (c->retransmits && c->srtt == 0 && c->rto < 3000000)
    c->rto = 3000000 < c->prm->rto_max ? 3000000 : c->prm->rto_max;
  c->last_recv = now;
  if (c->prm->keepalive_idle)
    timer_set(c, T_KEEPALIVE, now + c->prm->keepalive_idle);
  tcb_set_state(c, (c->flags & CF_FIN_QUEUED) ? SK_FIN_WAIT_1 : SK_ESTABLISHED,
                now);
  if (c->listener)
    listener_child_established(c->listener, c);
  else if (!(c->flags & CF_PASSIVE))
    ev_post(c->stack, &c->ev, SK_EV_CONNECTED);
}
