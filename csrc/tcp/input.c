/*
 * input.c — SEGMENT ARRIVES for a connection that exists (RFC 9293
 * §3.10.7.3 SYN-SENT and §3.10.7.4 the other states), one function per
 * step of the RFC, in the RFC's order, with RFC 7323 (PAWS, timestamps,
 * window scaling), RFC 5961 (blind attacks) and RFC 5681/6582 (duplicate
 * ACKs) where they hook in.  LISTEN is in listener.c, CLOSED (no
 * connection) in stack.c.
 */
#include <string.h>

#include "tcb.h"

/* The part of a segment still to be processed: the steps trim it to the
 * window and consume its controls as they go. */
typedef struct rx {
  const tcp_seg *seg;
  uint32_t seq; /* of the first octet left, the SYN included */
  const uint8_t *data;
  uint32_t len; /* text octets left */
  uint8_t flags;
} rx;

enum { STOP = 0, GO = 1 }; /* what a step tells the next */

#define PAWS_IDLE_S (24u * 24 * 3600) /* RFC 7323 §5.5: 24 days */

static void rx_init(rx *r, const tcp_seg *seg) {
  r->seg = seg;
  r->seq = seg->seq;
  r->data = seg->data;
  r->len = seg->len;
  r->flags = seg->flags;
}

static uint32_t rx_seglen(const rx *r) { /* SEG.LEN counts SYN and FIN */
  return r->len + !!(r->flags & TCP_SYN) + !!(r->flags & TCP_FIN);
}

static int text_state(const sk_conn *c) { /* states that take segment text */
  return c->state == SK_ESTABLISHED || c->state == SK_FIN_WAIT_1 ||
         c->state == SK_FIN_WAIT_2;
}

/* RFC 5961 §3.2, §4.2, §5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, at most
 * one per challenge_ack_interval per connection (§7). */
static void challenge_ack(sk_conn *c, uint64_t now) {
  if (now < c->next_challenge) {
    c->stack->stats.challenge_acks_limited++;
    return;
  }
  c->next_challenge = now + c->prm->challenge_ack_interval;
  c->stack->stats.challenge_acks++;
  c->flags |= CF_ACK_NOW;
}

/* The ACK that answers an unacceptable segment.  Data and FINs are always
 * answered (the peer needs it to go on); a bare one at most once per
 * challenge_ack_interval, so that two confused ends cannot answer each
 * other for ever and a blind sender cannot make us reflect at will (as
 * Linux's tcp_invalid_ratelimit). */
static void reply_ack(sk_conn *c, const rx *r, uint64_t now) {
  if (r->len || (r->flags & TCP_FIN)) {
    c->flags |= CF_ACK_NOW;
    return;
  }
  if (now < c->next_challenge) {
    c->stack->stats.oow_acks_limited++;
    return;
  }
  c->next_challenge = now + c->prm->challenge_ack_interval;
  c->flags |= CF_ACK_NOW;
}

/* ---- ACK processing shared by SYN-SENT and the synchronized states ---- */

/* An RTT sample for an ACK of new data: from the echoed timestamp when
 * RFC 7323 is in use (§4.1, every such ACK), else from the one segment
 * being timed (RFC 6298 with Karn's rule). */
static void measure_rtt(sk_conn *c, uint32_t ack, const tcp_seg *seg,
                        uint64_t now) {
  if ((c->flags & CF_TS) && (seg->opts.has & HAS_TS) && seg->opts.ts_ecr) {
    uint32_t ms = tcb_ts_now(c, now) - seg->opts.ts_ecr;
    /* An echo older than our latest retransmission is Karn's ambiguity
     * again: when ACKs were lost, the peer echoes a TS.Recent that only
     * an earlier copy set (duplicates never update it, RFC 7323 §5.3 R3),
     * and now - TSecr is no round trip at all. */
    if (ms < 0x7fffffffu / 1000 && seq_geq(seg->opts.ts_ecr, c->rtx_tsval))
      rtt_sample(c, ms * 1000);
    c->flags &= ~(uint32_t)CF_TIMING;
  } else if ((c->flags & CF_TIMING) && seq_geq(ack, c->rtt_seq)) {
    rtt_sample(c, (uint32_t)(now - c->rtt_start));
    c->flags &= ~(uint32_t)CF_TIMING;
  }
}

/* SND.UNA < ack <= SND.MAX: new data (or our SYN or FIN) acknowledged.
 * RFC 9293 §3.10.7.4 fifth, with RFC 6298 (5.2), (5.3). */
static void ack_advance(sk_conn *c, uint32_t ack, const tcp_seg *seg,
                        uint64_t now) {
  uint32_t head = snd_head_seq(c), end = head + c->sndq.len, acked = 0;
  measure_rtt(c, ack, seg, now);
  c->flags |= CF_SYN_ACKED; /* anything acked acks the SYN first */
  if (seq_gt(ack, head))
    acked = seq_geq(ack, end) ? c->sndq.len : ack - head;
  if ((c->flags & CF_FIN_QUEUED) && seq_gt(ack, end))
    c->flags |= CF_FIN_ACKED;
  ring_read(&c->sndq, &c->stack->mem, NULL, acked);
  c->snd_una = ack;
  if (seq_lt(c->snd_nxt, ack))
    c->snd_nxt = ack;
  c->backoff = 0;
  if (c->snd_una == c->snd_max || (c->flags & CF_PROBING))
    timer_clear(c, T_RTX);
  else
    timer_set(c, T_RTX, now + c->rto);
  if (c->state != SK_SYN_SENT && c->state != SK_SYN_RECEIVED)
    cc_on_ack(c, ack, acked, now); /* only data (not SYN, FIN) grows cwnd */
  if ((c->flags & CF_WANT_DRAIN) && c->sndq.len < c->prm->sndbuf) {
    c->flags &= ~(uint32_t)CF_WANT_DRAIN;
    ev_post(c->stack, &c->ev, SK_EV_WRITABLE);
  }
}

/* §3.10.7.4 fifth: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window
 * should be updated", unless the segment is older than the last update.
 * The field is scaled by the peer's shift (RFC 7323 §2.3). */
static void window_update(sk_conn *c, const tcp_seg *seg) {
  if (seq_lt(c->snd_wl1, seg->seq) ||
      (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, seg->ack))) {
    c->snd_wnd = (uint32_t)seg->win << c->snd_wscale;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (c->snd_wnd > c->max_snd_wnd)
      c->max_snd_wnd = c->snd_wnd;
  }
}

/* The peer answered: a window that opened ends zero-window probing, and
 * the probe octet, if it was refused, goes again as ordinary data. */
static void persist_on_ack(sk_conn *c) {
  if (!(c->flags & CF_PROBING) || c->snd_wnd == 0)
    return;
  c->flags &= ~(uint32_t)CF_PROBING;
  c->backoff = 0;
  timer_clear(c, T_PERSIST);
  c->snd_nxt = c->snd_una;
}

/* RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data,
 * SYN or FIN, leaves the window as it was, and arrives while data is
 * outstanding.  Judged against SND.UNA and SND.WND as they were before
 * the segment was processed. */
static int is_dupack(const sk_conn *c, const rx *r, uint32_t old_una,
                     uint32_t old_wnd) {
  const tcp_seg *seg = r->seg;
  return seg->ack == old_una && c->snd_una == old_una && seg->len == 0 &&
         !(seg->flags & (TCP_SYN | TCP_FIN)) && c->snd_wnd == old_wnd &&
         c->snd_una != c->snd_max && !(c->flags & CF_PROBING);
}

/* ---- the steps of §3.10.7.4 ---------------------------------------------- */

/* RFC 7323 §5.3, R1 (before the sequence check): a timestamp older than
 * TS.Recent marks an old duplicate; it is dropped and acknowledged.  Once
 * timestamps are agreed, a segment without one is dropped (§3.2). */
static int step_paws(sk_conn *c, rx *r, uint64_t now) {
  const tcp_seg *seg = r->seg;
  if (!(c->flags & CF_TS) || (seg->flags & TCP_RST))
    return GO;
  if (!(seg->opts.has & HAS_TS)) {
    stack_drop(c->stack, now, SK_DROP_TS_MISSING);
    return STOP;
  }
  if (seq_lt(seg->opts.ts_val, c->ts_recent) &&
      (uint32_t)(now / 1000000) - c->ts_recent_age < PAWS_IDLE_S) {
    stack_drop(c->stack, now, SK_DROP_PAWS);
    reply_ack(c, r, now);
    return STOP;
  }
  return GO;
}

static int acceptable(const sk_conn *c, const rx *r, uint32_t wnd) {
  uint32_t seglen = rx_seglen(r), nxt = c->rcv_nxt;
  if (seglen == 0)
    return wnd == 0 ? r->seq == nxt : seq_in(r->seq, nxt, nxt + wnd);
  if (wnd == 0)
    return 0;
  return seq_in(r->seq, nxt, nxt + wnd) ||
         seq_in(r->seq + seglen - 1, nxt, nxt + wnd);
}

/* Keeps only what lies in the window: octets before RCV.NXT are
 * duplicates, octets past RCV.NXT + RCV.WND are not accepted, and a FIN is
 * accepted only when it is inside the window too. */
static void trim_to_window(sk_conn *c, rx *r, uint32_t wnd) {
  uint32_t right = c->rcv_nxt + wnd;
  if (seq_lt(r->seq, c->rcv_nxt)) {
    uint32_t d = c->rcv_nxt - r->seq;
    if (r->flags & TCP_SYN) { /* kept: step_syn must see it (RFC 5961 §4) */
      r->seq++;
      d--;
    }
    if (d > r->len)
      d = r->len;
    sack_note_duplicate(c, r->seq, r->seq + d); /* RFC 2883 */
    r->data += d;
    r->len -= d;
    r->seq += d;
    c->flags |= CF_ACK_NOW; /* a duplicate: tell the peer where we are */
  }
  if (seq_gt(r->seq + r->len, right)) {
    r->len = right - r->seq;
    c->flags |= CF_ACK_NOW;
  }
  if ((r->flags & TCP_FIN) && seq_geq(r->seq + r->len, right)) {
    r->flags &= (uint8_t)~TCP_FIN;
    c->flags |= CF_ACK_NOW;
  }
}

/* First: check the sequence number (§3.10.7.4, the four cases). */
static int step_sequence(sk_conn *c, rx *r, uint64_t now) {
  uint32_t wnd = tcb_rcv_window(c);
  if (acceptable(c, r, wnd)) {
    trim_to_window(c, r, wnd);
    return GO;
  }
  /* "If the RCV.WND is zero, no segments will be acceptable, but special
   * allowance should be made to accept valid ACKs, URGs, and RSTs": the
   * text is dropped and the ACK answers the window probe. */
  if (wnd == 0 && r->seq == c->rcv_nxt) {
    if (r->len || (r->flags & TCP_FIN))
      c->flags |= CF_ACK_NOW;
    r->len = 0;
    r->flags &= (uint8_t)~TCP_FIN;
    return GO;
  }
  stack_drop(c->stack, now, SK_DROP_OUT_OF_WINDOW);
  if (r->flags & TCP_RST)
    return STOP;
  if (r->flags & TCP_SYN) { /* RFC 5961 §4.2: a challenge ACK, limited */
    challenge_ack(c, now);
    return STOP;
  }
  if (r->len && seq_leq(r->seq + r->len, c->rcv_nxt))
    sack_note_duplicate(c, r->seq, r->seq + r->len); /* RFC 2883 §4 */
  reply_ack(c, r, now); /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
  return STOP;
}

/* RFC 7323 §4.3: remember the timestamp to echo, from a segment that
 * covers the octet our last ACK asked for. */
static void update_ts_recent(sk_conn *c, const tcp_seg *seg, uint64_t now) {
  if ((c->flags & CF_TS) && (seg->opts.has & HAS_TS) &&
      seq_geq(seg->opts.ts_val, c->ts_recent) &&
      seq_leq(seg->seq, c->last_ack_sent)) {
    c->ts_recent = seg->opts.ts_val;
    c->ts_recent_age = (uint32_t)(now / 1000000);
  }
}

/* Second: the RST bit.  Only an exact RCV.NXT resets; elsewhere in the
 * window it earns a challenge ACK (RFC 9293 §3.10.7.4, RFC 5961 §3.2). */
static int step_rst(sk_conn *c, rx *r, uint64_t now) {
  sk_stats *st = &c->stack->stats;
  if (!(r->flags & TCP_RST))
    return GO;
  if (r->seg->seq != c->rcv_nxt) {
    stack_drop(c->stack, now, SK_DROP_RST_NOT_EXACT);
    challenge_ack(c, now);
    return STOP;
  }
  st->rst_received++;
  switch (c->state) {
  case SK_SYN_RECEIVED: /* passive: back to LISTEN, the child goes */
    if (!(c->flags & CF_PASSIVE))
      st->conns_refused++;
    tcb_closed(c, SK_ECONNREFUSED, now);
    break;
  case SK_TIME_WAIT:
    tcb_closed(c, SK_OK, now);
    break;
  default: /* ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT, CLOSING, LAST-ACK */
    st->conns_reset++;
    tcb_closed(c, SK_ECONNRESET, now);
    break;
  }
  return STOP;
}

/* Third, security, concerns IP security options, which synack does not
 * implement (RFC 9293 §3.10.7.4 leaves them to the implementation).
 * Fourth: the SYN bit. */
static int step_syn(sk_conn *c, rx *r, uint64_t now) {
  if (!(r->flags & TCP_SYN))
    return GO;
  if (c->state == SK_SYN_RECEIVED && (c->flags & CF_PASSIVE)) {
    /* "return this connection to the LISTEN state" */
    tcb_closed(c, SK_ECONNREFUSED, now);
    return STOP;
  }
  /* RFC 5961 §4.2: whatever the sequence number, a challenge ACK */
  stack_drop(c->stack, now, SK_DROP_SYN_ON_CONN);
  challenge_ack(c, now);
  return STOP;
}

/* Fifth, SYN-RECEIVED: the ACK that completes the handshake. */
static int ack_in_syn_received(sk_conn *c, const tcp_seg *seg, uint64_t now) {
  sk_listener *l = c->listener;
  if (!seq_in(seg->ack, c->snd_una + 1, c->snd_max + 1)) {
    stack_drop(c->stack, now, SK_DROP_BAD_ACK);
    stack_reset_reply(c->stack, now, seg); /* <SEQ=SEG.ACK><CTL=RST> */
    return STOP;
  }
  if (l && l->accept_len >= l->backlog) {
    /* No room to queue it: ignore the ACK, as Linux does; the SYN-ACK is
     * sent again and the peer's ACK with it, maybe after an accept(). */
    stack_drop(c->stack, now, SK_DROP_ACCEPT_QUEUE_FULL);
    return STOP;
  }
  c->snd_wnd = c->max_snd_wnd = (uint32_t)seg->win << c->snd_wscale;
  c->snd_wl1 = seg->seq;
  c->snd_wl2 = seg->ack;
  tcb_established(c, now);
  return GO;
}

/* Fifth: the ACK field. */
static int step_ack(sk_conn *c, rx *r, uint64_t now) {
  const tcp_seg *seg = r->seg;
  uint32_t old_wnd = c->snd_wnd, old_una = c->snd_una;
  if (!(r->flags & TCP_ACK)) { /* "if the ACK bit is off, drop the segment" */
    stack_drop(c->stack, now, SK_DROP_NO_ACK);
    return STOP;
  }
  if (c->state == SK_SYN_RECEIVED && ack_in_syn_received(c, seg, now) == STOP)
    return STOP;
  if (seq_gt(seg->ack, c->snd_max)) { /* acks something not yet sent */
    stack_drop(c->stack, now, SK_DROP_BAD_ACK);
    reply_ack(c, r, now);
    return STOP;
  }
  if (seq_lt(seg->ack, c->snd_una - c->max_snd_wnd)) {
    /* RFC 5961 §5.2: older than any window could explain: a blind
     * injection, discarded with a (challenge) ACK */
    stack_drop(c->stack, now, SK_DROP_BAD_ACK);
    challenge_ack(c, now);
    return STOP;
  }
  if (seq_gt(seg->ack, c->snd_una))
    ack_advance(c, seg->ack, seg, now);
  if (seq_leq(c->snd_una, seg->ack))
    window_update(c, seg);
  c->last_recv = now; /* an acceptable ACK: the peer is alive; keep-alive */
  c->probes = 0;      /* and probes start over (only after every check) */
  persist_on_ack(c);
  sack_advance(c);
  sack_update(c, &seg->opts);
  if (is_dupack(c, r, old_una, old_wnd))
    cc_on_dupack(c, now);
  if ((c->flags & (CF_SACK | CF_RECOVERY)) == CF_SACK &&
      c->snd_una != c->snd_max && sack_loss_detected(c))
    cc_sack_recovery(c, now); /* RFC 6675 §5: IsLost(HighACK + 1) */
  switch (c->state) {
  case SK_FIN_WAIT_1:
    if (fin_acked(c))
      tcb_fin_wait_2(c, now);
    break;
  case SK_CLOSING:
    if (fin_acked(c))
      tcb_enter_time_wait(c, now);
    return STOP; /* "otherwise, ignore the segment" */
  case SK_LAST_ACK:
    if (fin_acked(c)) {
      tcb_closed(c, SK_OK, now);
      return STOP;
    }
    break;
  default:
    break;
  }
  return GO;
}

/* RFC 1122 §4.2.3.2: acknowledge at least every second full-sized segment
 * (counted in octets since our last ACK), otherwise within delack. */
static void schedule_ack(sk_conn *c, uint32_t n, uint64_t now) {
  if (n > c->rcv_mss)
    c->rcv_mss = n;
  if (c->rcv_nxt - c->last_ack_sent >= 2 * c->rcv_mss)
    c->flags |= CF_ACK_NOW;
  else if (c->timer[T_DELACK] == SK_NEVER)
    timer_set(c, T_DELACK, now + c->prm->delack);
}

typedef struct placing {
  sk_conn *c;
  const uint8_t *data;
  uint32_t seq;
} placing;

/* Writes one range not yet received into its place in the ring: the first
 * copy of an octet wins, later ones never overwrite it. */
static void place(void *ctx, uint32_t lo, uint32_t hi) {
  placing *p = ctx;
  sk_conn *c = p->c;
  ring_write_at(&c->rcvq, &c->stack->mem, c->rcvq.len + (lo - c->rcv_nxt),
                p->data + (lo - p->seq), hi - lo, rcv_cap(c));
}

/* Text past what the ring can hold is cut off (and a FIN with it): only
 * octets really stored may ever count as received.  With the window as we
 * offer it this never cuts anything; it is the last line of defence. */
static void fit_ring(sk_conn *c, rx *r) {
  uint32_t room = rcv_cap(c) - c->rcvq.len, off = r->seq - c->rcv_nxt;
  if (off >= room) {
    r->len = 0;
    r->flags &= (uint8_t)~TCP_FIN;
  } else if (r->len > room - off) {
    r->len = room - off;
    r->flags &= (uint8_t)~TCP_FIN;
  }
}

/* Text ahead of RCV.NXT: held in place, its range remembered, the number
 * of ranges capped; answered at once with a duplicate ACK (RFC 5681 §4.2).
 * A FIN with it is remembered until the gap before it fills. */
static void receive_ahead(sk_conn *c, rx *r, uint64_t now) {
  sk_stats *st = &c->stack->stats;
  uint32_t hi = r->seq + r->len;
  placing p = {c, r->data, r->seq};
  st->ooo_segments++;
  c->flags |= CF_ACK_NOW;
  if (r->len) {
    sack_note_arrival(c, r->seq);
    if (!asm_fits(&c->ooo, r->seq, hi, c->prm->max_ooo_holes)) {
      stack_drop(c->stack, now, SK_DROP_OOO_FULL);
      return;
    }
    asm_gaps(&c->ooo, r->seq, hi, place, &p);
    if (asm_add(&c->ooo, &c->stack->mem, r->seq, hi, c->prm->max_ooo_holes) !=
        ASM_OK) {
      stack_drop(c->stack, now, SK_DROP_OOO_FULL);
      return;
    }
  }
  if ((r->flags & TCP_FIN) && !(c->flags & CF_FIN_PENDING)) {
    c->flags |= CF_FIN_PENDING;
    c->rcv_fin_seq = hi;
  }
}

/* Text at RCV.NXT: placed around what is already held, then RCV.NXT moves
 * past it and past every held range it now reaches. */
static void receive_in_order(sk_conn *c, rx *r, uint64_t now) {
  uint32_t end = r->seq + r->len, had_holes = c->ooo.n, n;
  placing p = {c, r->data, r->seq};
  asm_gaps(&c->ooo, r->seq, end, place, &p);
  end = asm_advance(&c->ooo, &c->stack->mem, end);
  n = end - c->rcv_nxt;
  ring_commit(&c->rcvq, n);
  c->rcv_nxt = end;
  if (had_holes) /* a gap filled: RFC 5681 §4.2, ACK at once */
    c->flags |= CF_ACK_NOW;
  if (seq_gt(end, r->seq + r->len))
    r->flags &= (uint8_t)~TCP_FIN; /* a FIN cannot sit before held data */
  if ((c->flags & CF_FIN_PENDING) && c->rcv_nxt == c->rcv_fin_seq)
    r->flags |= TCP_FIN; /* the FIN that waited for the gap */
  ev_post(c->stack, &c->ev, SK_EV_READABLE);
  schedule_ack(c, r->len, now);
}

/* Seventh: the segment text. */
static void step_text(sk_conn *c, rx *r, uint64_t now) {
  if (r->len == 0 && !(r->flags & TCP_FIN))
    return;
  if (!text_state(c)) {
    r->len = 0; /* after the peer's FIN there is no more text */
    return;
  }
  if (r->len && (c->flags & CF_READ_CLOSED)) {
    /* The owner closed: nobody will read it.  Linux resets, and so do
     * we (RFC 9293 §3.10.4 lets the implementation choose). */
    c->stack->stats.abort_on_data++;
    c->stack->stats.conns_aborted++;
    tcb_abort(c, SK_ECONNABORTED, now);
    return;
  }
  fit_ring(c, r);
  if (seq_gt(r->seq, c->rcv_nxt)) {
    receive_ahead(c, r, now);
    r->len = 0;
    r->flags &= (uint8_t)~TCP_FIN;
    return;
  }
  if (r->len)
    receive_in_order(c, r, now);
}

/* Eighth: the FIN bit. */
static void step_fin(sk_conn *c, rx *r, uint64_t now) {
  if (!(r->flags & TCP_FIN) || c->state == SK_CLOSED)
    return;
  if (c->flags & CF_PEER_FIN) { /* a FIN after the FIN: nothing to consume */
    c->flags |= CF_ACK_NOW;
    return;
  }
  c->rcv_nxt++;
  c->flags |= CF_PEER_FIN | CF_ACK_NOW;
  c->flags &= ~(uint32_t)CF_FIN_PENDING;
  ev_post(c->stack, &c->ev, SK_EV_PEER_FIN);
  switch (c->state) {
  case SK_SYN_RECEIVED:
  case SK_ESTABLISHED:
    tcb_set_state(c, SK_CLOSE_WAIT, now);
    break;
  case SK_FIN_WAIT_1:
    if (fin_acked(c))
      tcb_enter_time_wait(c, now);
    else
      tcb_set_state(c, SK_CLOSING, now);
    break;
  case SK_FIN_WAIT_2:
    tcb_enter_time_wait(c, now);
    break;
  default: /* CLOSE-WAIT, CLOSING, LAST-ACK: remain */
    break;
  }
}

/* ---- the states that need more than the steps ------------------------- */

/* §3.10.7.3: SYN-SENT. */
static void syn_sent_input(sk_conn *c, const tcp_seg *seg, uint64_t now) {
  int ack_ok = 0;
  rx r;
  if (seg->flags & TCP_ACK) { /* first: the ACK must cover our SYN only */
    if (seq_leq(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max)) {
      stack_drop(c->stack, now, SK_DROP_BAD_ACK);
      if (!(seg->flags & TCP_RST))
        stack_reset_reply(c->stack, now, seg); /* <SEQ=SEG.ACK><CTL=RST> */
      return;
    }
    ack_ok = 1;
  }
  if (seg->flags & TCP_RST) { /* second: RST, acceptable only with the ACK */
    if (!ack_ok) {
      stack_drop(c->stack, now, SK_DROP_BAD_RST);
      return;
    }
    c->stack->stats.rst_received++;
    c->stack->stats.conns_refused++;
    tcb_closed(c, SK_ECONNREFUSED, now);
    return;
  }
  if (!(seg->flags & TCP_SYN)) { /* fifth: neither SYN nor RST */
    stack_drop(c->stack, now, SK_DROP_NO_SYN);
    return;
  }
  /* fourth: the SYN */
  c->irs = seg->seq;
  c->rcv_nxt = c->rcv_adv = c->last_ack_sent = seg->seq + 1;
  tcb_syn_options(c, seg, now);
  c->snd_wnd = c->max_snd_wnd = seg->win; /* a SYN's window: unscaled */
  c->snd_wl1 = seg->seq;
  c->snd_wl2 = seg->ack;
  if (!ack_ok) { /* simultaneous open (§3.5, Figure 7) */
    tcb_set_state(c, SK_SYN_RECEIVED, now);
    c->snd_nxt = c->iss; /* the SYN goes again, now as a SYN-ACK */
    return;
  }
  ack_advance(c, seg->ack, seg, now);
  tcb_established(c, now);
  c->flags |= CF_ACK_NOW;
  /* "continue processing at the sixth step": text or FIN on the SYN-ACK */
  rx_init(&r, seg);
  r.flags &= (uint8_t) ~(TCP_SYN | TCP_ACK);
  r.seq++;
  trim_to_window(c, &r, tcb_rcv_window(c));
  step_text(c, &r, now); /* (sixth, URG: urgent data is inline, RFC 6093) */
  step_fin(c, &r, now);
}

/* SYN-RECEIVED sees two segments the steps would get wrong. */
static int syn_received_prestep(sk_conn *c, rx *r) {
  const tcp_seg *seg = r->seg;
  if ((seg->flags & (TCP_SYN | TCP_RST)) != TCP_SYN || seg->seq != c->irs)
    return GO;
  if (!(seg->flags & TCP_ACK) && (c->flags & CF_PASSIVE)) {
    /* The peer's SYN again: our SYN-ACK was lost.  Send it again now,
     * as Linux does, rather than the bare ACK of the sequence check. */
    c->snd_nxt = c->iss;
    return STOP;
  }
  if ((seg->flags & TCP_ACK) && seg->len == 0 && seg->ack == c->snd_max) {
    /* Simultaneous open, Figure 7 line 6: the peer's SYN-ACK.  Its SYN is
     * the one already received; its ACK completes our side. */
    r->flags &= (uint8_t)~TCP_SYN;
    r->seq++;
  }
  return GO;
}

/* A retransmitted FIN in TIME-WAIT is acknowledged and restarts the 2 MSL
 * wait (§3.10.7.4 eighth); anything else follows the usual steps. */
static int time_wait_prestep(sk_conn *c, const rx *r, uint64_t now) {
  const tcp_seg *seg = r->seg;
  if ((seg->flags & (TCP_FIN | TCP_RST | TCP_SYN)) == TCP_FIN &&
      seg->seq + seg->len + 1 == c->rcv_nxt) {
    c->flags |= CF_ACK_NOW;
    timer_set(c, T_WAIT, now + 2 * (uint64_t)c->prm->msl);
    return STOP;
  }
  return GO;
}

static void synchronized_input(sk_conn *c, rx *r, uint64_t now) {
  if (c->state == SK_SYN_RECEIVED && syn_received_prestep(c, r) == STOP)
    return;
  if (c->state == SK_TIME_WAIT && time_wait_prestep(c, r, now) == STOP)
    return;
  if (step_paws(c, r, now) == STOP || step_sequence(c, r, now) == STOP)
    return;
  update_ts_recent(c, r->seg, now);
  if (step_rst(c, r, now) == STOP || step_syn(c, r, now) == STOP ||
      step_ack(c, r, now) == STOP)
    return;
  /* Sixth, the URG bit: urgent data is delivered inline with the rest
   * (RFC 6093 §4); the pointer is not used, so no value of it, 0xFFFF or
   * past the data, can stall or confuse anything. */
  step_text(c, r, now);
  step_fin(c, r, now);
}

void tcp_input(sk_conn *c, const tcp_seg *seg, uint64_t now) {
  uint8_t was_busy = c->ev.busy;
  rx r;
  c->ev.busy = 1; /* the steps may close c; it is freed after, not during */
  if (c->state == SK_SYN_SENT)
    syn_sent_input(c, seg, now);
  else {
    rx_init(&r, seg);
    synchronized_input(c, &r, now);
  }
  c->ev.busy = was_busy;
  if (c->state == SK_CLOSED)
    tcb_maybe_free(c);
  else
    tcp_output(c, now); /* ACKs owed, and data the new window allows */
}
