/*
 * output.c — what a connection sends: SYN and SYN-ACK, data cut from the
 * send ring within the peer's window and MSS, FIN after the data, ACKs,
 * and RSTs.  Retransmission re-reads the ring: data lives once.
 */
#include <string.h>

#include "tcb.h"

/* The window field: what tcb_rcv_window offers, remembered as RCV.ADV so
 * that it never shrinks afterwards. */
static uint16_t advertise(sk_conn *c) {
  uint32_t w = tcb_rcv_window(c);
  c->rcv_adv = c->rcv_nxt + w;
  return (uint16_t)w;
}

/* Sends one segment: `len` bytes of the send ring starting `off` bytes
 * after its head. */
static void send_segment(sk_conn *c, uint64_t now, uint32_t seq, uint8_t flags,
                         uint32_t off, uint32_t len) {
  sk_stack *s = c->stack;
  uint8_t opts[TCP_OPT_MAX];
  tcp_opts o;
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
    seg.win = advertise(c);
  seg.raw_opts = opts;
  if (flags & TCP_SYN) { /* RFC 9293 §3.7.1: our MSS, in SYNs only */
    memset(&o, 0, sizeof o);
    o.has = HAS_MSS;
    o.mss = c->prm.mss;
    seg.raw_opts_len = (uint8_t)wire_build_options(&o, opts, sizeof opts);
  }
  if (len) {
    ring_peek(&c->sndq, off,
              s->obuf + IP_HDR_LEN + TCP_HDR_LEN + seg.raw_opts_len, len);
    seg.len = len; /* seg.data stays NULL: the payload is in place */
  }
  if (seq_lt(seq, c->snd_max) && !(flags & TCP_RST)) {
    s->stats.retransmits++;
    c->retransmits++;
  }
  stack_emit(s, now, &seg);
  if (flags & TCP_ACK) {
    c->flags &= ~(uint32_t)CF_ACK_NOW;
    c->rcv_unacked = 0;
    timer_clear(c, T_DELACK);
  }
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
  if (c->timer[T_RTX] == SK_NEVER)
    timer_set(c, T_RTX, now + c->rto);
}

static int send_syn(sk_conn *c, uint64_t now) {
  uint8_t flags = c->state == SK_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK;
  if (c->snd_nxt != c->iss)
    return 0;
  send_segment(c, now, c->iss, flags, 0, 0);
  sent(c, now, c->iss, 1);
  return 1;
}

/* One data segment from SND.NXT, at most `window` octets past SND.NXT;
 * the FIN rides along on the last one. */
static int send_data(sk_conn *c, uint64_t now, uint32_t window) {
  uint32_t head = snd_head_seq(c), end = head + c->sndq.len;
  uint32_t avail, len, seq = c->snd_nxt;
  uint8_t flags = TCP_ACK;
  if (!seq_lt(seq, end))
    return 0;
  avail = end - seq;
  len = avail < window ? avail : window;
  if (len > c->snd_mss)
    len = c->snd_mss;
  if (len == 0)
    return 0;
  if (len == avail) {
    flags |= TCP_PSH;
    if (c->flags & CF_FIN_QUEUED)
      flags |= TCP_FIN;
  }
  send_segment(c, now, seq, flags, seq - head, len);
  sent(c, now, seq, len + !!(flags & TCP_FIN));
  return 1;
}

static int send_fin(sk_conn *c, uint64_t now) {
  uint32_t fin = snd_fin_seq(c);
  if (!(c->flags & CF_FIN_QUEUED) || c->snd_nxt != fin ||
      (c->flags & CF_FIN_ACKED))
    return 0;
  send_segment(c, now, fin, TCP_FIN | TCP_ACK, 0, 0);
  sent(c, now, fin, 1);
  return 1;
}

static uint32_t usable_window(const sk_conn *c) {
  uint32_t right = c->snd_una + c->snd_wnd;
  return seq_gt(right, c->snd_nxt) ? right - c->snd_nxt : 0;
}

static int data_waiting(const sk_conn *c) {
  return seq_lt(c->snd_nxt, snd_fin_seq(c));
}

static int synchronized(const sk_conn *c) {
  return c->state != SK_CLOSED && c->state != SK_LISTEN &&
         c->state != SK_SYN_SENT && c->state != SK_SYN_RECEIVED;
}

/* Sends up to `limit` segments: SYN, or data and FIN as the window allows,
 * then a bare ACK if one is still owed. */
static void output(sk_conn *c, uint64_t now, int limit) {
  int n = 0;
  if (c->state == SK_SYN_SENT || c->state == SK_SYN_RECEIVED)
    n += send_syn(c, now);
  else if (synchronized(c) && c->state != SK_TIME_WAIT) {
    while (n < limit && send_data(c, now, usable_window(c)))
      n++;
    if (n < limit && !data_waiting(c))
      n += send_fin(c, now);
    /* A closed window with data waiting and nothing in flight: the
     * retransmission timer doubles as the persist timer (§3.8.6.1). */
    if (data_waiting(c) && c->snd_una == c->snd_max &&
        c->timer[T_RTX] == SK_NEVER)
      timer_set(c, T_RTX, now + c->rto);
  }
  if ((c->flags & CF_ACK_NOW) && c->state != SK_SYN_SENT)
    send_segment(c, now, c->snd_nxt, TCP_ACK, 0, 0);
}

void tcp_output(sk_conn *c, uint64_t now) { output(c, now, 1 << 30); }

void tcp_output_one(sk_conn *c, uint64_t now) {
  if (synchronized(c) && c->snd_wnd == 0 && data_waiting(c)) {
    /* "The sending TCP must regularly transmit at least one octet of new
     * data (if available), even if the send window is zero" (§3.8.6.1). */
    send_data(c, now, 1);
    return;
  }
  output(c, now, 1);
}

void tcp_send_ack(sk_conn *c, uint64_t now) {
  c->flags |= CF_ACK_NOW;
  tcp_output(c, now);
}

/* <SEQ=SND.NXT><CTL=RST>, where SND.NXT is the highest ever sent. */
void tcp_send_rst(sk_conn *c, uint64_t now) {
  send_segment(c, now, c->snd_max, TCP_RST, 0, 0);
}
