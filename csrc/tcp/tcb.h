/*
 * tcb.h — the transmission control block (RFC 9293 §3.3.1) and the
 * functions of the core that work on one connection.
 */
#ifndef SK_TCB_H
#define SK_TCB_H

#include "assembler.h"
#include "ring.h"
#include "seq.h"
#include "stack.h"

/* Connection flags. */
enum {
  CF_PASSIVE = 1 << 0,      /* opened by a listener */
  CF_USER = 1 << 1,         /* the owner holds the handle */
  CF_FIN_QUEUED = 1 << 2,   /* shutdown/close asked for a FIN after the data */
  CF_ACK_NOW = 1 << 3,      /* an ACK must go out at the next output */
  CF_READ_CLOSED = 1 << 4,  /* close(): nothing more will be read */
  CF_PEER_FIN = 1 << 5,     /* the peer's FIN has been received */
  CF_WANT_DRAIN = 1 << 6,   /* a write was short: post WRITABLE on room */
  CF_CLOSE_POSTED = 1 << 7, /* the CLOSED event has been queued */
  CF_IN_HASH = 1 << 8,
  CF_ACCEPT_QUEUED = 1 << 9,
  CF_SYN_ACKED = 1 << 10,   /* our SYN has been acknowledged */
  CF_FIN_ACKED = 1 << 11,   /* our FIN has been acknowledged */
  CF_TIMING = 1 << 12,      /* a segment is being timed (rtt_seq) */
  CF_TS = 1 << 13,          /* RFC 7323 timestamps in use */
  CF_WSCALE = 1 << 14,      /* RFC 7323 window scaling in use */
  CF_RECOVERY = 1 << 15,    /* RFC 6582 fast recovery */
  CF_PROBING = 1 << 16,     /* zero-window probing (persist timer) */
  CF_FIN_PENDING = 1 << 17, /* a FIN arrived ahead of RCV.NXT */
  CF_FORCE = 1 << 18,       /* send one segment ignoring Nagle and SWS */
  CF_SACK = 1 << 19,        /* RFC 2018 SACK agreed in the SYNs */
  CF_DSACK = 1 << 20,       /* a D-SACK block waits for the next ACK */
};

#define SACK_RECENT 4 /* out-of-order arrivals remembered for SACK order */

/* The timers of a connection; the heap orders conns by the earliest.
 * T_WAIT ends a closing connection: 2 MSL in TIME-WAIT, fin_timeout in an
 * orphaned FIN-WAIT-2.  T_PERSIST probes a closed window (§3.8.6.1). */
enum { T_RTX, T_PERSIST, T_DELACK, T_WAIT, T_KEEPALIVE, T_COUNT };

#define STATE_LOG 4 /* state changes kept until delivered */

struct sk_conn {
  evnode ev; /* first: a conn is its own event node */
  sk_stack *stack;
  sk_conn *hnext;         /* 4-tuple chain */
  sk_conn *aprev, *anext; /* the stack's list of every conn */
  sk_listener *listener;  /* passive opens, until accepted */
  sk_conn *qnext;         /* listener's accept queue */
  const sk_params *prm;   /* shared with conns of the same parameters */

  uint32_t laddr, raddr;
  uint16_t lport, rport;
  uint32_t flags;
  /* the byte-sized fields together, so that nothing pads between them */
  uint8_t state;
  int8_t close_err; /* SK_OK or the reason the connection ended */
  int8_t soft_err;  /* an ICMP error to report if the connection times out */
  uint8_t snd_wscale, rcv_wscale; /* RFC 7323 shifts, 0 without */
  uint8_t sack_nrecent;           /* entries of sack_recent */
  uint8_t dupacks;                /* RFC 5681 duplicate ACKs counted */
  uint8_t backoff;                /* consecutive timeouts (or persist probes) */
  uint8_t probes;                 /* unanswered window or keep-alive probes */
  uint8_t log_len;                /* state transitions not yet delivered */
  uint8_t log[STATE_LOG][2];

  /* Send sequence space (RFC 9293 §3.3.1, Figure 3).  snd_max is the
   * highest sequence number sent; snd_nxt goes back to snd_una when the
   * retransmission timer fires. */
  uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
  uint32_t max_snd_wnd; /* the largest window the peer offered (RFC 5961) */
  uint32_t snd_mss;     /* the most payload one segment may carry */
  /* Receive sequence space (Figure 4).  rcv_adv is the right edge of the
   * window last advertised, which must never move left (§3.8.6.2.2). */
  uint32_t irs, rcv_nxt, rcv_adv;
  uint32_t rcv_mss;       /* the largest segment received, at least 536 */
  uint32_t last_ack_sent; /* RCV.NXT in our last ACK (RFC 7323 §4.3) */
  uint32_t rcv_fin_seq;   /* with CF_FIN_PENDING */
  uint32_t sack_recent[SACK_RECENT]; /* latest out-of-order arrivals */
  uint32_t dsack[2];                 /* a duplicate to report (RFC 2883) */
  uint32_t high_rxt;                 /* RFC 6675 HighRxt */
  assembler ooo;                     /* received ranges ahead of RCV.NXT */
  assembler sacked; /* the scoreboard: SACKed ranges above SND.UNA */

  /* RFC 7323 timestamps */
  uint32_t ts_recent;     /* TS.Recent */
  uint32_t ts_recent_age; /* when it was set, in seconds of `now` */
  uint32_t ts_offset;     /* added to our clock, per connection */
  uint32_t rtx_tsval;     /* our TSval in the latest retransmission */

  /* Congestion control (RFC 5681, RFC 6582) */
  uint32_t cwnd, ssthresh;
  uint32_t recover;     /* RFC 6582: one past the highest seq sent */
  uint32_t bytes_acked; /* congestion avoidance byte counting */

  /* Retransmission (RFC 6298): microseconds. */
  uint32_t srtt, rttvar, rto;
  uint32_t rtt_seq; /* the segment being timed ends here */
  uint32_t retransmits;
  uint32_t heap_idx;
  uint64_t rtt_start;      /* when, if CF_TIMING */
  uint64_t last_send;      /* RFC 5681 §4.1: restart after idle */
  uint64_t last_recv;      /* keep-alive idle time starts here */
  uint64_t next_challenge; /* RFC 5961 §7 rate limit */

  uint64_t timer[T_COUNT];
  uint64_t deadline;

  uint64_t log_time[STATE_LOG];
  uint64_t ev_time; /* of the STATE event being delivered */

  ring sndq, rcvq;
  uint32_t tw; /* a husk's TIME-WAIT entry (timewait.c) */
};

#define HEAP_NONE UINT32_MAX

/* tcb.c */
sk_conn *tcb_new(sk_stack *s, const sk_params *prm);
void tcb_set_state(sk_conn *c, int state, uint64_t now);
void tcb_closed(sk_conn *c, int err, uint64_t now); /* -> CLOSED */
void tcb_maybe_free(sk_conn *c);
void tcb_free(sk_conn *c); /* its memory, now: no list or table holds it */
void tcb_enter_time_wait(sk_conn *c, uint64_t now);
void tcb_fin_wait_2(sk_conn *c, uint64_t now);
uint32_t tcb_rcv_window(const sk_conn *c);
void tcb_syn_options(sk_conn *c, const tcp_seg *seg, uint64_t now);
uint8_t tcb_our_wscale(const sk_params *p); /* the shift our SYN offers */
void tcb_established(sk_conn *c, uint64_t now);
/* Sets the 4-tuple and the timestamp offset; returns the tuple's secret,
 * for its ISN (isn_at). */
uint64_t tcb_set_tuple(sk_conn *c, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport);
void tcb_abort(sk_conn *c, int err, uint64_t now); /* RST, then CLOSED */
uint32_t tcb_ts_now(const sk_conn *c, uint64_t now);

/* The first data byte in the send ring, and the sequence number of our FIN
 * (meaningful once CF_FIN_QUEUED is set). */
static inline uint32_t snd_head_seq(const sk_conn *c) {
  return c->snd_una + !(c->flags & CF_SYN_ACKED); /* the SYN takes one */
}
static inline uint32_t snd_fin_seq(const sk_conn *c) {
  return snd_head_seq(c) + c->sndq.len;
}
static inline int fin_acked(const sk_conn *c) {
  return (c->flags & CF_FIN_ACKED) != 0;
}
static inline uint32_t flight_size(const sk_conn *c) {
  return c->snd_max - c->snd_una;
}
/* What the receive ring may hold: rcvbuf, and the up to 2^wscale - 1
 * octets a window rounded up to its scale may promise beyond it (RFC 7323
 * §2.4 forbids shrinking the window, so it is rounded up, not down). */
static inline uint32_t rcv_cap(const sk_conn *c) {
  return c->prm->rcvbuf + (1u << c->rcv_wscale) - 1;
}

/* input.c: RFC 9293 §3.10.7.3 and §3.10.7.4 */
void tcp_input(sk_conn *c, const tcp_seg *seg, uint64_t now);

/* output.c */
void tcp_output(sk_conn *c, uint64_t now);
void tcp_send_ack(sk_conn *c, uint64_t now);
void tcp_send_rst(sk_conn *c, uint64_t now);        /* <SEQ=SND.NXT><CTL=RST> */
void tcp_retransmit_head(sk_conn *c, uint64_t now); /* the oldest segment */
void tcp_retransmit(sk_conn *c, uint64_t now, uint32_t seq, uint32_t len);
void tcp_persist_probe(sk_conn *c, uint64_t now);
void tcp_keepalive_probe(sk_conn *c, uint64_t now);

/* timer.c */
void timer_set(sk_conn *c, int which, uint64_t when);
void timer_clear(sk_conn *c, int which);
void timer_clear_all(sk_conn *c);
void timer_fire(sk_conn *c, uint64_t now);
int heap_reserve(sk_stack *s, uint32_t n); /* room for n conns; 0 if not */
void heap_remove(sk_stack *s, sk_conn *c);

/* rtt.c: RFC 6298 */
void rtt_init(sk_conn *c);
void rtt_sample(sk_conn *c, uint32_t r);
void rtt_backoff(sk_conn *c);
uint32_t rtt_backed_off(const sk_conn *c); /* rto << backoff, capped */

/* sack.c: RFC 2018, RFC 2883, RFC 6675 */
void sack_note_arrival(sk_conn *c, uint32_t seq);
void sack_note_duplicate(sk_conn *c, uint32_t lo, uint32_t hi);
void sack_fill(sk_conn *c, tcp_opts *o, unsigned max);
void sack_update(sk_conn *c, const tcp_opts *o);
void sack_advance(sk_conn *c);
void sack_forget(sk_conn *c);
int sack_loss_detected(const sk_conn *c);
uint32_t sack_pipe(const sk_conn *c);
int sack_next_lost(const sk_conn *c, uint32_t *seq, uint32_t *len);

/* congestion.c: RFC 5681 and RFC 6582 */
void cc_init(sk_conn *c);
void cc_on_ack(sk_conn *c, uint32_t ack, uint32_t acked, uint64_t now);
void cc_on_dupack(sk_conn *c, uint64_t now);
void cc_sack_recovery(sk_conn *c, uint64_t now);
void cc_on_timeout(sk_conn *c);
void cc_before_send(sk_conn *c, uint64_t now);
uint32_t cc_send_window(const sk_conn *c);

#endif
