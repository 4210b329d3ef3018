/*
 * tcb.c — the life of a transmission control block: creation, state
 * changes, entering TIME-WAIT and CLOSED, and freeing.
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
  c->ev.kind = EV_CONN;
  c->stack = s;
  c->prm = *prm;
  c->state = SK_CLOSED;
  c->heap_idx = HEAP_NONE;
  c->deadline = SK_NEVER;
  for (i = 0; i < T_COUNT; i++)
    c->timer[i] = SK_NEVER;
  c->snd_mss = 536;
  rtt_init(c);
  c->anext = s->all;
  if (s->all)
    s->all->aprev = c;
  s->all = c;
  return c;
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
  if (c->state == SK_TIME_WAIT)
    c->stack->stats.time_wait--;
  if (state == SK_TIME_WAIT)
    c->stack->stats.time_wait++;
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
  (void)now;
  if (c->state == SK_CLOSED)
    return;
  timer_clear_all(c);
  conn_hash_remove(s, c);
  if (c->listener)
    listener_child_gone(c->listener, c);
  ring_free(&c->sndq, &s->mem);
  /* After an orderly end the owner may still read what arrived. */
  if (err != SK_OK || !(c->flags & CF_USER) || (c->flags & CF_READ_CLOSED))
    ring_free(&c->rcvq, &s->mem);
  tcb_set_state(c, SK_CLOSED, now);
  post_close(c, err); /* once: TIME-WAIT has already told the owner */
  tcb_maybe_free(c);
}

/* FIN-WAIT-2 waits for the peer's FIN, which a dead or hostile peer never
 * sends.  Once the owner has closed the connection nobody would ever learn
 * of it, so it ends after fin_timeout with a RST, as in Linux. */
void tcb_fin_wait_2(sk_conn *c, uint64_t now) {
  if (c->state != SK_FIN_WAIT_2)
    tcb_set_state(c, SK_FIN_WAIT_2, now);
  if ((c->flags & CF_READ_CLOSED) && c->timer[T_WAIT] == SK_NEVER)
    timer_set(c, T_WAIT, now + c->prm.fin_timeout);
}

/* RFC 9293 §3.10.7.4: the connection waits 2 MSL so that late segments of
 * this incarnation die out before the 4-tuple can be used again. */
void tcb_enter_time_wait(sk_conn *c, uint64_t now) {
  timer_clear_all(c);
  ring_free(&c->sndq, &c->stack->mem);
  tcb_set_state(c, SK_TIME_WAIT, now);
  timer_set(c, T_WAIT, now + 2 * (uint64_t)c->prm.msl);
  post_close(c, SK_OK);
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
  ring_free(&c->sndq, &s->mem);
  ring_free(&c->rcvq, &s->mem);
  mem_free(&s->mem, c, sizeof *c);
}

/* The window we offer: free space in the receive buffer, but never less
 * than already advertised, since the right edge must not move left
 * (RFC 9293 §3.8.6.2.2).  Without window scaling it fits in 16 bits. */
uint32_t tcb_rcv_window(const sk_conn *c) {
  uint32_t cap = c->prm.rcvbuf, used = c->rcvq.len;
  uint32_t w = cap > used ? cap - used : 0;
  if (w > 65535)
    w = 65535;
  if (seq_gt(c->rcv_adv, c->rcv_nxt + w))
    w = c->rcv_adv - c->rcv_nxt;
  return w;
}

/* RFC 9293 §3.7.1: without an MSS option the peer takes 536 bytes
 * (RFC 1122 §4.2.2.6).  We never send more than our own MSS either. */
void tcb_peer_mss(sk_conn *c, const tcp_seg *seg) {
  uint32_t mss = (seg->opts.has & HAS_MSS) ? seg->opts.mss : 536;
  if (mss > c->prm.mss)
    mss = c->prm.mss;
  /* A tiny MSS would turn one write into thousands of segments; Linux
   * refuses to go below 48 (net.ipv4.tcp_min_snd_mss) and so do we. */
  if (mss < 48)
    mss = 48;
  c->snd_mss = mss;
}

void tcb_established(sk_conn *c, uint64_t now) {
  (void)now;
  c->stack->stats.conns_opened++;
  tcb_set_state(c, (c->flags & CF_FIN_QUEUED) ? SK_FIN_WAIT_1 : SK_ESTABLISHED,
                now);
  if (c->listener)
    listener_child_established(c->listener, c);
  else if (!(c->flags & CF_PASSIVE))
    ev_post(c->stack, &c->ev, SK_EV_CONNECTED);
}
