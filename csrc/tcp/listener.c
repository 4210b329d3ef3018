/*
 * listener.c — passive opens: the LISTEN state (RFC 9293 §3.10.7.2), the
 * queue of half-open children and the accept queue.
 */
#include <string.h>

#include "tcb.h"

sk_listener *listener_find(sk_stack *s, uint16_t port) {
  sk_listener *l = s->listeners;
  while (l && l->port != port)
    l = l->next;
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
  l->params = o && o->params ? *o->params : s->cfg.params;
  l->next = s->listeners;
  s->listeners = l;
  return l;
}

void sk_listener_set_callback(sk_listener *l, sk_event_fn fn, void *ud) {
  l->ev.cb = fn;
  l->ev.ud = ud;
  if (fn && l->accept_len)
    ev_post(l->stack, &l->ev, SK_EV_ACCEPT);
}

/* RFC 9293 §3.10.7.2: a segment for a port in LISTEN. */
void listener_input(sk_listener *l, const tcp_seg *seg, uint64_t now) {
  sk_stack *s = l->stack;
  sk_conn *c;
  if (seg->flags & TCP_RST) /* first: an incoming RST is ignored */
    return;
  if (seg->flags & TCP_ACK) { /* second: no ACK can be acceptable here */
    stack_reset_reply(s, now, seg);
    return;
  }
  if (!(seg->flags & TCP_SYN)) /* fourth: anything else is dropped */
    return;
  /* third: a SYN.  Both queues are bounded (DESIGN.md, Bounded). */
  if (l->syn_queue >= s->cfg.max_syn_backlog || l->accept_len >= l->backlog) {
    s->stats.listen_overflows++;
    return;
  }
  if (!(c = tcb_new(s, &l->params)))
    return;
  c->flags |= CF_PASSIVE;
  c->listener = l;
  l->syn_queue++;
  tcb_set_tuple(c, seg->daddr, seg->dport, seg->saddr, seg->sport);
  c->irs = seg->seq;
  c->rcv_nxt = c->rcv_adv = c->last_ack_sent = seg->seq + 1;
  c->iss = isn_for(s, now, seg->daddr, seg->dport, seg->saddr, seg->sport);
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
  ev_unlink(s, &l->ev);
  l->ev.cb = NULL;
  if (l->ev.busy) /* inside its own callback: dispatch frees it after */
    l->stack = NULL;
  else
    mem_free(&s->mem, l, sizeof *l);
}
