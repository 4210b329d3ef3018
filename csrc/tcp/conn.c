/*
 * conn.c — the user calls of RFC 9293 §3.10.1–§3.10.6: OPEN (active),
 * SEND, RECEIVE, CLOSE, ABORT, STATUS.
 */
#include <string.h>

#include "tcb.h"

/* RFC 6056 §3.3.3, algorithm 3 ("Simple Hash-Based"): the search for an
 * ephemeral port starts at a keyed hash of the destination plus a counter
 * from a small table, so ports are hard to guess and a destination's are
 * spread, not reused at once.  A port is free when no listener has it and
 * no connection to that destination uses it; one held only by a TIME-WAIT
 * entry is taken when that is safe (tw_port_free).  0 when the range is
 * exhausted. */
static uint16_t pick_port(sk_stack *s, uint32_t raddr, uint16_t rport, int ts,
                          uint64_t now) {
  uint32_t n = (uint32_t)s->cfg.port_hi - s->cfg.port_lo + 1, i;
  uint32_t offset;
  uint16_t *counter;
  if (!s->port_hash || s->port_raddr != raddr || s->port_rport != rport) {
    s->port_hash = stack_prf(s, PRF_PORT, s->cfg.addr, 0, raddr, rport, 0);
    s->port_raddr = raddr;
    s->port_rport = rport;
  }
  offset = (uint32_t)s->port_hash;                     /* F(dest) */
  counter = &s->port_table[(s->port_hash >> 32) % 64]; /* its table slot */
  for (i = 0; i < n; i++) {
    uint16_t p = (uint16_t)(s->cfg.port_lo + (offset + *counter) % n);
    (*counter)++;
    if (!listener_find(s, p) && !conn_lookup(s, raddr, rport, p) &&
        tw_port_free(s, raddr, rport, p, ts, now))
      return p;
  }
  return 0;
}

sk_conn *sk_connect(sk_stack *s, uint64_t now, uint32_t raddr, uint16_t rport,
                    const sk_conn_opts *o, int *err) {
  uint16_t lport = o ? o->local_port : 0;
  const sk_params *prm = o && o->params ? o->params : &s->cfg.params;
  sk_conn *c;
  *err = SK_OK;
  if (raddr == 0 || rport == 0) {
    *err = SK_EINVAL;
    return NULL;
  }
  if (lport == 0 &&
      (lport = pick_port(s, raddr, rport, prm->timestamps, now)) == 0) {
    *err = SK_EADDRNOTAVAIL;
    return NULL;
  }
  if (conn_lookup(s, raddr, rport, lport) ||
      !tw_port_free(s, raddr, rport, lport, prm->timestamps, now)) {
    *err = SK_EADDRINUSE;
    return NULL;
  }
  if (!(c = tcb_new(s, prm))) {
    *err = SK_ENOMEM;
    return NULL;
  }
  c->flags |= CF_USER;
  c->iss = isn_at(now, tcb_set_tuple(c, s->cfg.addr, lport, raddr, rport));
  c->snd_una = c->snd_nxt = c->snd_max = c->iss;
  conn_hash_insert(s, c);
  tcb_set_state(c, SK_SYN_SENT, now);
  tcp_output(c, now); /* <SEQ=ISS><CTL=SYN> */
  return c;
}

void sk_conn_set_callback(sk_conn *c, sk_event_fn fn, void *ud) {
  c->ev.cb = fn;
  c->ev.ud = ud;
  if (fn && c->ev.pending) /* events that waited for an owner */
    ev_post(c->stack, &c->ev, SK_EV_STATE);
}

void sk_conn_rearm(sk_conn *c, int event) {
  int now_true = 0;
  switch (event) {
  case SK_EV_READABLE:
    now_true = c->rcvq.len > 0;
    break;
  case SK_EV_PEER_FIN:
    now_true = (c->flags & CF_PEER_FIN) != 0;
    break;
  case SK_EV_WRITABLE:
    now_true = c->sndq.len < c->prm->sndbuf;
    break;
  }
  if (now_true)
    ev_post(c->stack, &c->ev, event);
}

static int can_send(const sk_conn *c) {
  switch (c->state) {
  case SK_SYN_SENT:
  case SK_SYN_RECEIVED:
  case SK_ESTABLISHED:
  case SK_CLOSE_WAIT:
    return !(c->flags & CF_FIN_QUEUED);
  default:
    return 0;
  }
}

ptrdiff_t sk_conn_write(sk_conn *c, uint64_t now, const void *p, size_t n) {
  uint32_t want = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n, took;
  if (!can_send(c)) {
    if (c->state == SK_CLOSED && c->close_err != SK_OK)
      return c->close_err;
    return SK_EPIPE;
  }
  took = ring_write(&c->sndq, &c->stack->mem, p, want, c->prm->sndbuf);
  if (took < want)
    c->flags |= CF_WANT_DRAIN;
  if (took)
    tcp_output(c, now); /* queued in SYN-SENT/SYN-RECEIVED until then */
  return took;
}

/* A read made room: tell the peer only when it matters, that is when the
 * window offered was at most half the buffer and can now at least double
 * (Linux's rule in tcp_cleanup_rbuf; RFC 1122 §4.2.3.3 asks for no more
 * than that).  The update waits for the owner's callback to end, on the
 * delayed-ACK timer set to now, so that a reply written there carries it
 * instead of a lone ACK. */
static void maybe_window_update(sk_conn *c, uint64_t now) {
  uint32_t cur, avail;
  if (c->state != SK_ESTABLISHED && c->state != SK_FIN_WAIT_1 &&
      c->state != SK_FIN_WAIT_2)
    return;
  cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
  avail = tcb_rcv_window(c);
  if (2 * (uint64_t)cur <= c->prm->rcvbuf && avail > cur &&
      avail >= 2 * (uint64_t)cur)
    timer_set(c, T_DELACK, now);
}

ptrdiff_t sk_conn_read(sk_conn *c, uint64_t now, void *p, size_t n) {
  uint32_t want = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n, got;
  if (c->rcvq.len) {
    got = ring_read(&c->rcvq, &c->stack->mem, p, want);
    maybe_window_update(c, now);
    return got;
  }
  if (c->flags & CF_PEER_FIN)
    return SK_EOF;
  if (c->state == SK_CLOSED)
    return c->close_err != SK_OK ? c->close_err : SK_EOF;
  return 0;
}

size_t sk_conn_readable(const sk_conn *c) { return c->rcvq.len; }

const void *sk_conn_peek(const sk_conn *c, size_t *n) {
  uint32_t got;
  const uint8_t *p = ring_front(&c->rcvq, &got);
  *n = got;
  return p;
}

/* RFC 9293 §3.10.4 CLOSE, for the sending side only: the FIN goes after
 * every byte already queued. */
int sk_conn_shutdown(sk_conn *c, uint64_t now) {
  if (c->flags & CF_FIN_QUEUED)
    return SK_OK;
  switch (c->state) {
  case SK_SYN_SENT:
  case SK_SYN_RECEIVED: /* the FIN waits for ESTABLISHED */
    c->flags |= CF_FIN_QUEUED;
    return SK_OK;
  case SK_ESTABLISHED:
    c->flags |= CF_FIN_QUEUED;
    tcb_set_state(c, SK_FIN_WAIT_1, now);
    break;
  case SK_CLOSE_WAIT:
    c->flags |= CF_FIN_QUEUED;
    tcb_set_state(c, SK_LAST_ACK, now);
    break;
  case SK_CLOSED:
    return c->close_err != SK_OK ? c->close_err : SK_ENOTCONN;
  default: /* a FIN is already on its way */
    return SK_OK;
  }
  tcp_output(c, now);
  return SK_OK;
}

int sk_conn_close(sk_conn *c, uint64_t now) {
  int unread = c->rcvq.len > 0;
  c->flags |= CF_READ_CLOSED;
  switch (c->state) {
  case SK_SYN_SENT: /* §3.10.4: delete the TCB */
    tcb_closed(c, SK_OK, now);
    return SK_OK;
  case SK_CLOSED:
    return SK_OK;
  case SK_SYN_RECEIVED:
  case SK_ESTABLISHED:
  case SK_FIN_WAIT_1:
  case SK_FIN_WAIT_2:
  case SK_CLOSE_WAIT:
    if (unread) { /* RFC 2525 §2.17, as Linux: data would be lost: RST */
      c->stack->stats.abort_on_close++;
      c->stack->stats.conns_aborted++;
      tcb_abort(c, SK_ECONNABORTED, now);
      return SK_OK;
    }
    if (c->state == SK_FIN_WAIT_2) { /* shut down before: now orphaned */
      tcb_fin_wait_2(c, now);
      return SK_OK;
    }
    return sk_conn_shutdown(c, now);
  default:
    return SK_OK;
  }
}

/* RFC 9293 §3.10.5 ABORT. */
void sk_conn_abort(sk_conn *c, uint64_t now) {
  if (c->state == SK_CLOSED)
    return;
  c->stack->stats.conns_aborted++;
  tcb_abort(c, SK_ECONNABORTED, now);
}

void sk_conn_release(sk_conn *c, uint64_t now) {
  if (!(c->flags & CF_READ_CLOSED)) /* an orphan still ends gracefully */
    sk_conn_close(c, now);
  if (c->tw) { /* a TIME-WAIT husk: its entry waits on alone */
    tw_forget_husk(c->stack, c, 0, now);
    c->state = SK_CLOSED;
  }
  c->flags &= ~(uint32_t)CF_USER;
  c->ev.cb = NULL;
  c->ev.ud = NULL;
  tcb_maybe_free(c);
}

int sk_conn_state(const sk_conn *c) { return c->state; }

uint64_t sk_conn_state_time(const sk_conn *c) { return c->ev_time; }

void sk_conn_info(const sk_conn *c, uint64_t now, sk_info *info) {
  memset(info, 0, sizeof *info);
  info->state = c->state;
  info->local_addr = c->laddr;
  info->local_port = c->lport;
  info->remote_addr = c->raddr;
  info->remote_port = c->rport;
  info->iss = c->iss;
  info->irs = c->irs;
  info->snd_una = c->snd_una;
  info->snd_nxt = c->snd_nxt;
  info->snd_wnd = c->snd_wnd;
  info->rcv_nxt = c->rcv_nxt;
  info->rcv_wnd = c->state == SK_CLOSED ? 0 : tcb_rcv_window(c);
  info->mss = c->snd_mss;
  info->snd_wscale = (c->flags & CF_WSCALE) ? c->snd_wscale : -1;
  info->rcv_wscale = (c->flags & CF_WSCALE) ? c->rcv_wscale : -1;
  info->timestamps = (c->flags & CF_TS) != 0;
  info->sack = (c->flags & CF_SACK) != 0;
  info->cwnd = c->cwnd;
  info->ssthresh = c->ssthresh;
  info->ooo_bytes = asm_bytes(&c->ooo);
  info->srtt = c->srtt;
  info->rttvar = c->rttvar;
  info->rto = c->rto;
  info->retransmits = c->retransmits;
  info->send_queue = c->sndq.len;
  info->recv_queue = c->rcvq.len;
  if (c->state == SK_TIME_WAIT && tw_expires(c->stack, c, now) > now)
    info->expires_in = tw_expires(c->stack, c, now) - now;
}
