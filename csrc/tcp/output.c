/*
 * output.c — what a connection sends: SYN and SYN-ACK with their options,
 * data cut from the send ring within the peer's window, the congestion
 * window and the MSS, FIN after the data, ACKs, RSTs, and the probes of
 * the persist and keep-alive timers.  Retransmission re-reads the ring:
 * data lives once.
 */
#include <string.h>

#include "tcb.h"

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The window field.  A SYN's is never scaled (RFC 7323 §2.2); otherwise
 * the window is shifted right by our scale, rounded down unless that would
 * move the right edge left of what was advertised (§2.4: never shrink). */
static uint16_t advertise(sk_conn *c, int syn) {
  uint32_t w = tcb_rcv_window(c), s = syn ? 0 : c->rcv_wscale, field;
  field = w >> s;
  if (seq_lt(c->rcv_nxt + (field << s), c->rcv_adv))
    field = (w + (1u << s) - 1) >> s;
  if (field > 65535)
    field = 65535;
  if (seq_gt(c->rcv_nxt + (field << s), c->rcv_adv) || syn)
    c->rcv_adv = c->rcv_nxt + (field << s);
  return (uint16_t)field;
}

/* Options: MSS, window scale, SACK-permitted and timestamps on a SYN as
 * offered or agreed (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018
 * §2); timestamps on every other segment once both SYNs carried them, RSTs
 * excepted; SACK blocks on ACKs while data is held out of order. */
static uint8_t build_options(sk_conn *c, uint8_t flags, uint64_t now,
                             uint8_t *out) {
  tcp_opts o;
  int offer_ts;
  memset(&o, 0, sizeof o);
  if (flags & TCP_SYN) {
    int first = c->state == SK_SYN_SENT; /* ours, before the peer's */
    offer_ts = first ? c->prm->timestamps : !!(c->flags & CF_TS);
    o.has = HAS_MSS;
    o.mss = c->prm->mss;
    if (first ? c->prm->wscale != SK_WSCALE_OFF : !!(c->flags & CF_WSCALE)) {
      o.has |= HAS_WSCALE;
      o.wscale = c->rcv_wscale;
    }
    if (first ? c->prm->sack : !!(c->flags & CF_SACK))
      o.has |= HAS_SACK_PERM;
  } else
    offer_ts = (c->flags & CF_TS) && !(flags & TCP_RST);
  if (offer_ts) {
    o.has |= HAS_TS;
    o.ts_val = tcb_ts_now(c, now);
    o.ts_ecr = (flags & TCP_ACK) ? c->ts_recent : 0;
  }
  if ((c->flags & CF_SACK) && (flags & TCP_ACK) && !(flags & TCP_SYN) &&
      (c->ooo.n || (c->flags & CF_DSACK)))
    sack_fill(c, &o, offer_ts ? 3 : 4); /* within 40 octets of options */
  return (uint8_t)wire_build_options(&o, out, TCP_OPT_MAX);
}

/* Sends one segment: `len` bytes of the send ring starting `off` bytes
 * after its head. */
static void send_segment(sk_conn *c, uint64_t now, uint32_t seq, uint8_t flags,
                         uint32_t off, uint32_t len) {
  sk_stack *s = c->stack;
  uint8_t opts[TCP_OPT_MAX];
  tcp_seg seg;
  memset(&seg, 0, sizeof seg);
  seg.saddr = c->laddr;
  seg.daddr = c->raddr;
  seg.sport = c->lport;
  seg.dport = c->rport;
  seg.seq = seq;
  seg.flags = flags;
  if (flags & TCP_ACK)
    seg.ack = c->rcv_nxt;
  if (!(flags & TCP_RST))
    seg.win = advertise(c, flags & TCP_SYN);
  seg.raw_opts = opts;
  seg.raw_opts_len = build_options(c, flags, now, opts);
  if (len) {
    size_t room = s->obuf_size - IP_HDR_LEN - TCP_HDR_LEN - seg.raw_opts_len;
    if (len > room) /* cannot happen with an MSS below 64 KiB; never copy */
      return;
    ring_peek(&c->sndq, off,
              s->obuf + IP_HDR_LEN + TCP_HDR_LEN + seg.raw_opts_len, len);
    seg.len = len; /* seg.data stays NULL: the payload is in place */
  }
  if (seq_lt(seq, c->snd_max) && (len || (flags & (TCP_SYN | TCP_FIN)))) {
    s->stats.retransmits++;
    c->retransmits++;
    c->rtx_tsval = tcb_ts_now(c, now);
  }
  stack_emit(s, now, &seg);
  if (flags & TCP_ACK) {
    c->flags &= ~(uint32_t)CF_ACK_NOW;
    c->last_ack_sent = c->rcv_nxt;
    timer_clear(c, T_DELACK);
  }
  if (len || (flags & (TCP_SYN | TCP_FIN)))
    c->last_send = now;
}

/* Bookkeeping after sending [seq, seq + n): SND.NXT, SND.MAX, the RTT
 * sample (Karn: never from a retransmission) and the RTO (RFC 6298 (5.1)). */
static void sent(sk_conn *c, uint64_t now, uint32_t seq, uint32_t n) {
  uint32_t end = seq + n;
  if (seq_geq(seq, c->snd_max)) {
    if (!(c->flags & CF_TIMING)) {
      c->flags |= CF_TIMING;
      c->rtt_start = now;
      c->rtt_seq = end;
    }
  } else if (seq_lt(seq, c->rtt_seq))
    c->flags &= ~(uint32_t)CF_TIMING;
  c->snd_nxt = end;
  if (seq_gt(end, c->snd_max))
    c->snd_max = end;
  if (c->timer[T_RTX] == SK_NEVER && !(c->flags & CF_PROBING))
    timer_set(c, T_RTX, now + c->rto);
}

static int send_syn(sk_conn *c, uint64_t now) {
  uint8_t flags = c->state == SK_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
  if (c->snd_nxt != c->iss)
    return 0;
  if (c->snd_max == c->iss) /* every echo from now on is at least this */
    c->rtx_tsval = tcb_ts_now(c, now);
  send_segment(c, now, c->iss, flags, 0, 0);
  sent(c, now, c->iss, 1);
  return 1;
}

/* May `len` new octets of the `avail` queued go now?  Sender-side silly
 * window avoidance (RFC 9293 §3.8.6.2.1) and Nagle (RFC 896, §3.7.4). */
static int worth_sending(const sk_conn *c, uint32_t len, uint32_t avail) {
  if (len >= c->snd_mss || (c->flags & CF_FORCE))
    return 1;
  if (len < avail) /* the window cuts it short: at least half the max */
    return len >= c->max_snd_wnd / 2;
  /* all that is queued fits: small, so wait for outstanding data to be
   * acknowledged, unless Nagle is off or nothing more will come */
  return c->prm->nodelay || c->snd_una == c->snd_max ||
         (c->flags & CF_FIN_QUEUED);
}

/* One data segment from SND.NXT within min(SND.WND, cwnd) (in SACK
 * recovery `cwnd` is no limit: the pipe is, RFC 6675 §5); the FIN rides
 * along on the last one. */
static int send_data(sk_conn *c, uint64_t now, uint32_t cwnd) {
  uint32_t head = snd_head_seq(c), end = head + c->sndq.len;
  uint32_t seq = c->snd_nxt, avail, right, usable, len;
  uint8_t flags = TCP_ACK;
  if (!seq_lt(seq, end))
    return 0;
  avail = end - seq;
  right = c->snd_una + min32(c->snd_wnd, cwnd);
  usable = seq_gt(right, seq) ? right - seq : 0;
  len = min32(min32(avail, usable), c->snd_mss);
  if (len == 0)
    return 0;
  if (seq_geq(seq, c->snd_max)) { /* new data, not a retransmission */
    if (!worth_sending(c, len, avail))
      return 0;
    cc_before_send(c, now);
  }
  if (len == avail) {
    flags |= TCP_PSH;
    if (c->flags & CF_FIN_QUEUED)
      flags |= TCP_FIN;
  }
  send_segment(c, now, seq, flags, seq - head, len);
  sent(c, now, seq, len + !!(flags & TCP_FIN));
  c->flags &= ~(uint32_t)CF_FORCE;
  return 1;
}

/* The FIN alone, once every octet before it has been sent.  It goes out
 * whatever the window, as its octet of sequence space is the last. */
static int send_fin(sk_conn *c, uint64_t now) {
  uint32_t fin = snd_fin_seq(c);
  if (!(c->flags & CF_FIN_QUEUED) || c->snd_nxt != fin ||
      (c->flags & CF_FIN_ACKED))
    return 0;
  send_segment(c, now, fin, TCP_FIN | TCP_ACK, 0, 0);
  sent(c, now, fin, 1);
  return 1;
}

static int data_waiting(const sk_conn *c) {
  return seq_lt(c->snd_nxt, snd_fin_seq(c));
}

static int synchronized(const sk_conn *c) {
  return c->state != SK_CLOSED && c->state != SK_LISTEN &&
         c->state != SK_SYN_SENT && c->state != SK_SYN_RECEIVED;
}

/* Data waits and nothing in flight will bring an ACK to clock it out, or
 * a window probe is unanswered: the persist timer takes over (§3.8.6.1
 * for a zero window, §3.8.6.2.1's override timeout for one too small). */
static int persist_needed(const sk_conn *c) {
  if (c->flags & CF_PROBING)
    return c->snd_una != c->snd_max || data_waiting(c);
  return data_waiting(c) && c->snd_una == c->snd_max;
}

static void arm_persist(sk_conn *c, uint64_t now) {
  if (persist_needed(c) && c->timer[T_PERSIST] == SK_NEVER &&
      c->timer[T_RTX] == SK_NEVER)
    timer_set(c, T_PERSIST, now + rtt_backed_off(c));
}

/* RFC 6675 §5 (C): while cwnd - pipe is at least one SMSS, resend the
 * next hole deemed lost, else send new data. */
static void sack_recovery_output(sk_conn *c, uint64_t now) {
  uint32_t seq, len;
  while (c->cwnd >= sack_pipe(c) + c->snd_mss) {
    if (sack_next_lost(c, &seq, &len)) {
      tcp_retransmit(c, now, seq, len);
      c->high_rxt = seq + len;
    } else if (!send_data(c, now, UINT32_MAX))
      break;
  }
}

/* The sequence number of a bare ACK: SND.MAX rather than a SND.NXT the
 * RTO moved back, since the peer has seen that far and an older number
 * would be unacceptable to it (BSD does the same); but not past the
 * peer's window, where a refused probe octet would put it (as Linux's
 * tcp_acceptable_seq). */
static uint32_t ack_seq(const sk_conn *c) {
  uint32_t right = c->snd_una + c->snd_wnd;
  return seq_gt(c->snd_max, right) ? right : c->snd_max;
}

void tcp_output(sk_conn *c, uint64_t now) {
  if (c->state == SK_SYN_SENT || c->state == SK_SYN_RECEIVED)
    send_syn(c, now);
  else if (synchronized(c) && c->state != SK_TIME_WAIT) {
    if ((c->flags & (CF_RECOVERY | CF_SACK)) == (CF_RECOVERY | CF_SACK))
      sack_recovery_output(c, now);
    else
      while (send_data(c, now, cc_send_window(c)))
        ;
    if (!data_waiting(c))
      send_fin(c, now);
    arm_persist(c, now);
  }
  if ((c->flags & CF_ACK_NOW) && c->state != SK_SYN_SENT)
    send_segment(c, now, ack_seq(c), TCP_ACK, 0, 0);
}

/* Resends [seq, seq + len) of the send ring without moving SND.NXT (fast
 * retransmit, NewReno partial ACKs, SACK holes); the FIN again with the
 * last octet if it was sent. */
void tcp_retransmit(sk_conn *c, uint64_t now, uint32_t seq, uint32_t len) {
  uint32_t head = snd_head_seq(c), end = head + c->sndq.len;
  uint8_t flags = TCP_ACK;
  if (!(c->flags & CF_SYN_ACKED) || !seq_in(seq, c->snd_una, c->snd_max))
    return;
  if (seq_gt(seq + len, end))
    len = seq_lt(seq, end) ? end - seq : 0;
  if (seq + len == end && (c->flags & CF_FIN_QUEUED) && seq_gt(c->snd_max, end))
    flags |= TCP_FIN;
  if (len == 0 && !(flags & TCP_FIN))
    return;
  if (len && seq + len == end)
    flags |= TCP_PSH; /* as when it was first sent: the end of the data */
  send_segment(c, now, seq, flags, seq - head, len);
  if (seq_lt(seq, c->rtt_seq))
    c->flags &= ~(uint32_t)CF_TIMING; /* Karn */
}

/* RFC 5681 §3.2 and RFC 6582: resend the oldest unacknowledged segment. */
void tcp_retransmit_head(sk_conn *c, uint64_t now) {
  tcp_retransmit(c, now, c->snd_una, min32(flight_size(c), c->snd_mss));
}

/* The persist timer fired (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17).  A zero
 * window is probed with the octet at SND.UNA (new data the peer takes if
 * its window has opened), or with the FIN when no data is left; a window
 * merely too small is used as it is. */
void tcp_persist_probe(sk_conn *c, uint64_t now) {
  uint32_t head = snd_head_seq(c), end = head + c->sndq.len;
  if (!synchronized(c) || !persist_needed(c))
    return;
  if (c->snd_wnd > 0 && !(c->flags & CF_PROBING)) {
    c->flags |= CF_FORCE;
    tcp_output(c, now);
    c->flags &= ~(uint32_t)CF_FORCE;
    return;
  }
  c->flags |= CF_PROBING;
  c->stack->stats.window_probes++;
  c->probes++;
  if (seq_lt(c->snd_una, end))
    send_segment(c, now, c->snd_una, TCP_ACK, c->snd_una - head, 1);
  else if ((c->flags & CF_FIN_QUEUED) && !(c->flags & CF_FIN_ACKED))
    send_segment(c, now, end, TCP_FIN | TCP_ACK, 0, 0);
  else
    return;
  if (seq_gt(c->snd_una + 1, c->snd_max))
    c->snd_max = c->snd_una + 1;
  if (seq_gt(c->snd_una + 1, c->snd_nxt))
    c->snd_nxt = c->snd_una + 1;
}

/* RFC 1122 §4.2.3.6: <SEQ=SND.UNA-1><ACK=RCV.NXT>, an old octet's number,
 * which the peer must acknowledge. */
void tcp_keepalive_probe(sk_conn *c, uint64_t now) {
  c->stack->stats.keepalive_probes++;
  c->probes++;
  send_segment(c, now, c->snd_una - 1, TCP_ACK, 0, 0);
}

void tcp_send_ack(sk_conn *c, uint64_t now) {
  c->flags |= CF_ACK_NOW;
  tcp_output(c, now);
}

/* <SEQ=SND.NXT><CTL=RST>, where SND.NXT is the highest ever sent. */
void tcp_send_rst(sk_conn *c, uint64_t now) {
  send_segment(c, now, c->snd_max, TCP_RST, 0, 0);
}
