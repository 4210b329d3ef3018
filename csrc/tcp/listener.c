/*
 * listener.c — passive opens: the LISTEN state (RFC 9293 §3.10.7.2), the
 * queue of half-open children and the accept queue.
 */
#include <string.h>

#include "syncookie.h"
#include "tcb.h"

sk_listener *listener_find(sk_stack *s, uint16_t port) {
  sk_listener *l = s->lbuckets[port % LISTEN_BUCKETS];
  while (l && l->port != port)
    l = l->hnext;
  return l;
}

sk_listener *sk_listen(sk_stack *s, uint16_t port, const sk_listen_opts *o,
                       int *err) {
  sk_listener *l;
  *err = SK_OK;
  if (port == 0) {
    *err = SK_EINVAL;
    return NULL;
  }
  if (listener_find(s, port)) {
    *err = SK_EADDRINUSE;
    return NULL;
  }
  if (!(l = mem_calloc(&s->mem, sizeof *l))) {
    *err = SK_ENOMEM;
    return NULL;
  }
  l->ev.kind = EV_LISTENER;
  l->stack = s;
  l->port = port;
  l->backlog = o && o->backlog ? o->backlog : s->cfg.backlog;
  l->max_syn_backlog =
      o && o->max_syn_backlog ? o->max_syn_backlog : s->cfg.max_syn_backlog;
  l->syncookies =
      (uint8_t)(o && o->syncookies ? o->syncookies : s->cfg.syncookies);
  l->params = o && o->params ? *o->params : s->cfg.params;
  l->next = s->listeners;
  s->listeners = l;
  l->hnext = s->lbuckets[port % LISTEN_BUCKETS];
  s->lbuckets[port % LISTEN_BUCKETS] = l;
  return l;
}

void sk_listener_set_callback(sk_listener *l, sk_event_fn fn, void *ud) {
  l->ev.cb = fn;
  l->ev.ud = ud;
  if (fn && l->accept_len)
    ev_post(l->stack, &l->ev, SK_EV_ACCEPT);
}

/* ---- SYN cookies (syncookie.c; layout in docs/security.md) ------------ */

static cookie_tuple tuple_of(const tcp_seg *seg) {
  cookie_tuple t;
  t.laddr = seg->daddr;
  t.lport = seg->dport;
  t.raddr = seg->saddr;
  t.rport = seg->sport;
  return t;
}

/* Answers a SYN with a SYN-ACK whose ISN is a cookie, and keeps nothing.
 * Window scale and SACK-permitted survive only inside the TSval, so
 * without timestamps they are not offered (as Linux does). */
static void send_cookie(sk_listener *l, const tcp_seg *seg, uint64_t now) {
  sk_stack *s = l->stack;
  const sk_params *p = &l->params;
  cookie_tuple t = tuple_of(seg);
  uint32_t peer_mss = (seg->opts.has & HAS_MSS) ? seg->opts.mss : 536;
  int ts = (seg->opts.has & HAS_TS) && p->timestamps;
  int ws = ts && (seg->opts.has & HAS_WSCALE) && p->wscale != SK_WSCALE_OFF;
  int sack = ts && (seg->opts.has & HAS_SACK_PERM) && p->sack;
  tcp_seg r;
  memset(&r, 0, sizeof r);
  r.saddr = seg->daddr;
  r.daddr = seg->saddr;
  r.sport = seg->dport;
  r.dport = seg->sport;
  r.seq = cookie_make(&s->key, &t, seg->seq, cookie_count(now),
                      cookie_mss_index(peer_mss));
  r.ack = seg->seq + 1;
  r.flags = TCP_SYN | TCP_ACK;
  r.win = (uint16_t)(p->rcvbuf < 65535 ? p->rcvbuf : 65535); /* unscaled */
  r.opts.has = HAS_MSS;
  r.opts.mss = p->mss;
  if (ts) {
    uint32_t ts_now = (uint32_t)(now / 1000) +
                      tcb_ts_offset(s, t.laddr, t.lport, t.raddr, t.rport);
    int peer_ws = seg->opts.wscale > 14 ? 14 : seg->opts.wscale;
    r.opts.has |= HAS_TS;
    r.opts.ts_val = cookie_ts_encode(ts_now, ws ? peer_ws : -1, sack);
    r.opts.ts_ecr = seg->opts.ts_val;
  }
  if (ws) {
    r.opts.has |= HAS_WSCALE;
    r.opts.wscale = tcb_our_wscale(p);
  }
  if (sack)
    r.opts.has |= HAS_SACK_PERM;
  s->stats.syncookies_sent++;
  l->cookies_until = now + COOKIE_MAX_AGE * (uint64_t)COOKIE_PERIOD;
  stack_emit(s, now, &r);
}

/* Could ts_ecr be a TSval of one of our cookie SYN-ACKs for this
 * 4-tuple: not ahead of our clock, and no older than a cookie lives?
 * Otherwise the ACK's timestamp option was not an echo of ours (the SYN
 * had none, so the SYN-ACK offered none) and is ignored (RFC 7323 §3.2). */
static int ts_echoes_ours(const sk_stack *s, const tcp_seg *seg, uint64_t now) {
  uint32_t ts_now =
      (uint32_t)(now / 1000) +
      tcb_ts_offset(s, seg->daddr, seg->dport, seg->saddr, seg->sport);
  uint32_t age = ts_now - seg->opts.ts_ecr; /* ms */
  return age <= COOKIE_MAX_AGE * (COOKIE_PERIOD / 1000) + 64;
}

/* An ACK for no connection, while cookies may be out: if it carries a
 * valid one, the connection the SYN would have made is made now, in
 * SYN-RECEIVED, and the ACK completes it through the usual steps.  An
 * invalid cookie gets the RST any ACK to a listener gets (RFC 9293
 * §3.10.7.2; Linux too). */
static void cookie_ack(sk_listener *l, const tcp_seg *seg, uint64_t now) {
  sk_stack *s = l->stack;
  cookie_tuple t = tuple_of(seg);
  uint32_t idx = 0;
  int ws = -1, sack = 0;
  tcp_seg syn;
  sk_conn *c;
  switch (cookie_check(&s->key, &t, seg->seq - 1, seg->ack - 1,
                       cookie_count(now), &idx)) {
  case COOKIE_EXPIRED:
    stack_drop(s, now, SK_DROP_COOKIE_EXPIRED);
    stack_reset_reply(s, now, seg);
    return;
  case COOKIE_MISMATCH:
    stack_drop(s, now, SK_DROP_COOKIE_MISMATCH);
    stack_reset_reply(s, now, seg);
    return;
  }
  /* The options of the SYN, as the cookie and TSecr remember them. */
  memset(&syn, 0, sizeof syn);
  syn.opts.has = HAS_MSS;
  syn.opts.mss = cookie_mss_table[idx];
  if ((seg->opts.has & HAS_TS) && l->params.timestamps &&
      ts_echoes_ours(s, seg, now)) {
    if (!cookie_ts_decode(seg->opts.ts_ecr, &ws, &sack)) {
      stack_drop(s, now, SK_DROP_COOKIE_MISMATCH);
      stack_reset_reply(s, now, seg);
      return;
    }
    syn.opts.has |= HAS_TS;
    syn.opts.ts_val = seg->opts.ts_val;
    if (ws >= 0) {
      syn.opts.has |= HAS_WSCALE;
      syn.opts.wscale = (uint8_t)ws;
    }
    if (sack)
      syn.opts.has |= HAS_SACK_PERM;
  }
  if (l->accept_len >= l->backlog) {
    stack_drop(s, now, SK_DROP_ACCEPT_QUEUE_FULL);
    return;
  }
  if (!(c = tcb_new(s, &l->params))) {
    stack_drop(s, now, SK_DROP_NO_MEMORY);
    return;
  }
  s->stats.syncookies_valid++;
  c->flags |= CF_PASSIVE;
  c->listener = l;
  l->syn_queue++; /* for the moment until the ACK below establishes it */
  tcb_set_tuple(c, seg->daddr, seg->dport, seg->saddr, seg->sport);
  c->irs = seg->seq - 1;
  c->rcv_nxt = c->last_ack_sent = seg->seq;
  /* the right edge the SYN-ACK offered, which must not move left */
  c->rcv_adv = seg->seq + (l->params.rcvbuf < 65535 ? l->params.rcvbuf : 65535);
  c->iss = seg->ack - 1;
  c->snd_una = c->iss;
  c->snd_nxt = c->snd_max = seg->ack; /* the SYN-ACK is out */
  tcb_syn_options(c, &syn, now);
  if (!(c->flags & CF_WSCALE))
    c->rcv_wscale = 0;
  /* Our TSval in the SYN-ACK was rounded down: no RTT sample from it. */
  c->rtx_tsval = tcb_ts_now(c, now);
  conn_hash_insert(s, c);
  tcb_set_state(c, SK_SYN_RECEIVED, now);
  tcp_input(c, seg, now);
}

/* RFC 9293 §3.10.7.2: a segment for a port in LISTEN. */
void listener_input(sk_listener *l, const tcp_seg *seg, uint64_t now,
                    const uint32_t *isn_floor) {
  sk_stack *s = l->stack;
  sk_conn *c;
  int cookies = l->syncookies;
  uint32_t peer_mss = (seg->opts.has & HAS_MSS) ? seg->opts.mss : 536;
  if (seg->flags & TCP_RST) { /* first: an incoming RST is ignored */
    stack_drop(s, now, SK_DROP_LISTEN_RST);
    return;
  }
  if (seg->flags & TCP_ACK) { /* second: no ACK can be acceptable here... */
    if (!(seg->flags & TCP_SYN) &&
        (cookies == SK_SYNCOOKIES_ALWAYS || now < l->cookies_until)) {
      cookie_ack(l, seg, now); /* ...but one that returns a cookie */
      return;
    }
    stack_drop(s, now, SK_DROP_LISTEN_ACK);
    stack_reset_reply(s, now, seg);
    return;
  }
  if (!(seg->flags & TCP_SYN)) { /* fourth: anything else is dropped */
    stack_drop(s, now, SK_DROP_NO_ACK);
    return;
  }
  /* third: a SYN.  Both queues are bounded (DESIGN.md, Bounded).  A full
   * accept queue refuses even cookies: the ACK would find no room. */
  if (l->accept_len >= l->backlog) {
    stack_drop(s, now, SK_DROP_ACCEPT_QUEUE_FULL);
    return;
  }
  /* A cookie cannot carry an MSS below the table's smallest (536), nor
   * the old incarnation's SND.NXT a TIME-WAIT reopen must exceed: those
   * SYNs need state, and wait for room in the SYN queue. */
  if (!isn_floor && peer_mss >= cookie_mss_table[0] &&
      (cookies == SK_SYNCOOKIES_ALWAYS ||
       (cookies == SK_SYNCOOKIES_AUTO && l->syn_queue >= l->max_syn_backlog))) {
    send_cookie(l, seg, now);
    return;
  }
  if (l->syn_queue >= l->max_syn_backlog) {
    stack_drop(s, now, SK_DROP_BACKLOG_FULL);
    return;
  }
  if (!(c = tcb_new(s, &l->params))) {
    stack_drop(s, now, SK_DROP_NO_MEMORY);
    return;
  }
  c->flags |= CF_PASSIVE;
  c->listener = l;
  l->syn_queue++;
  c->iss = isn_at(
      now, tcb_set_tuple(c, seg->daddr, seg->dport, seg->saddr, seg->sport));
  c->irs = seg->seq;
  c->rcv_nxt = c->rcv_adv = c->last_ack_sent = seg->seq + 1;
  /* RFC 1122 §4.2.2.13: above anything the old incarnation sent (Linux
   * takes its SND.NXT + 65537 too) */
  if (isn_floor && !seq_gt(c->iss, *isn_floor))
    c->iss = *isn_floor + 65537;
  c->snd_una = c->snd_nxt = c->snd_max = c->iss;
  c->snd_wnd = c->max_snd_wnd = seg->win; /* SYN windows are not scaled */
  tcb_syn_options(c, seg, now);
  conn_hash_insert(s, c);
  /* Text and FIN riding on the SYN are not acknowledged, so the peer sends
   * them again once the connection is established. */
  tcb_set_state(c, SK_SYN_RECEIVED, now);
  tcp_output(c, now); /* <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
}

void listener_child_established(sk_listener *l, sk_conn *c) {
  l->syn_queue--;
  c->flags |= CF_ACCEPT_QUEUED;
  c->qnext = NULL;
  if (l->accept_tail)
    l->accept_tail->qnext = c;
  else
    l->accept_head = c;
  l->accept_tail = c;
  l->accept_len++;
  ev_post(l->stack, &l->ev, SK_EV_ACCEPT);
}

void listener_child_gone(sk_listener *l, sk_conn *c) {
  if (c->flags & CF_ACCEPT_QUEUED) {
    sk_conn **pp = &l->accept_head, *prev = NULL;
    while (*pp != c) {
      prev = *pp;
      pp = &(*pp)->qnext;
    }
    *pp = c->qnext;
    if (l->accept_tail == c)
      l->accept_tail = prev;
    l->accept_len--;
    c->flags &= ~(uint32_t)CF_ACCEPT_QUEUED;
  } else {
    l->syn_queue--;
  }
  c->listener = NULL;
  c->qnext = NULL;
}

sk_conn *sk_listener_accept(sk_listener *l) {
  sk_conn *c = l->accept_head;
  if (!c)
    return NULL;
  l->accept_head = c->qnext;
  if (!l->accept_head)
    l->accept_tail = NULL;
  l->accept_len--;
  c->qnext = NULL;
  c->listener = NULL;
  c->flags &= ~(uint32_t)CF_ACCEPT_QUEUED;
  c->flags |= CF_USER;
  return c;
}

void sk_listener_info(const sk_listener *l, sk_info *info) {
  memset(info, 0, sizeof *info);
  info->state = SK_LISTEN;
  info->local_addr = l->stack->cfg.addr;
  info->local_port = l->port;
  info->snd_wscale = info->rcv_wscale = -1;
  info->mss = l->params.mss;
  info->backlog = l->backlog;
  info->max_syn_backlog = l->max_syn_backlog;
  info->accept_queue = l->accept_len;
  info->syn_queue = l->syn_queue;
}

void sk_listener_close(sk_listener *l, uint64_t now) {
  sk_stack *s = l->stack;
  sk_listener **pp = &s->listeners;
  sk_conn *c, *next;
  /* Children nobody will accept are reset (RFC 9293 §3.10.4: CLOSE in
   * LISTEN; Linux does the same for its accept queue). */
  for (c = s->all; c; c = next) {
    next = c->anext;
    if (c->listener == l) {
      tcp_send_rst(c, now);
      tcb_closed(c, SK_ECONNABORTED, now);
    }
  }
  while (*pp != l)
    pp = &(*pp)->next;
  *pp = l->next;
  for (pp = &s->lbuckets[l->port % LISTEN_BUCKETS]; *pp != l;)
    pp = &(*pp)->hnext;
  *pp = l->hnext;
  ev_unlink(s, &l->ev);
  l->ev.cb = NULL;
  if (l->ev.busy) /* inside its own callback: dispatch frees it after */
    l->stack = NULL;
  else
    mem_free(&s->mem, l, sizeof *l);
}
