/*
 * congestion.c — congestion control: RFC 5681 slow start, congestion
 * avoidance, fast retransmit and fast recovery, with the NewReno
 * modification of RFC 6582 and the initial window of RFC 6928.
 *
 * Loss recovery (what to resend, when to enter and leave recovery) is
 * shared; an algorithm only says how far to cut on loss and how to grow on
 * ACKs, the shape of Linux's tcp_congestion_ops, so CUBIC can be added as
 * one more table.
 */
#include "tcb.h"

#define CWND_MAX (1u << 30)

typedef struct cc_algo {
  const char *name;
  uint32_t (*ssthresh)(const sk_conn *c);         /* after a loss */
  void (*cong_avoid)(sk_conn *c, uint32_t acked); /* on new data acked */
} cc_algo;

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t reno_ssthresh(const sk_conn *c) {
  return max32(flight_size(c) / 2, 2 * c->snd_mss);
}

/* RFC 5681 §3.1: slow start grows by at most SMSS per ACK (2); congestion
 * avoidance by one SMSS per window of data acknowledged, counted in bytes
 * (RFC 3465). */
static void reno_cong_avoid(sk_conn *c, uint32_t acked) {
  if (c->cwnd < c->ssthresh)
    c->cwnd += min32(acked, c->snd_mss);
  else {
    c->bytes_acked += acked;
    if (c->bytes_acked >= c->cwnd) {
      c->bytes_acked -= c->cwnd;
      c->cwnd += c->snd_mss;
    }
  }
  if (c->cwnd > CWND_MAX)
    c->cwnd = CWND_MAX;
}

static const cc_algo newreno = {"newreno", reno_ssthresh, reno_cong_avoid};

static const cc_algo *algo(const sk_conn *c) {
  (void)c; /* one algorithm for now; a per-connection choice goes here */
  return &newreno;
}

/* RFC 6928: min(10 * MSS, max(2 * MSS, 14600)). */
static uint32_t initial_window(const sk_conn *c) {
  return min32(10 * c->snd_mss, max32(2 * c->snd_mss, 14600));
}

void cc_init(sk_conn *c) {
  /* RFC 5681 §3.1: after a lost SYN or SYN-ACK, the initial window is one
   * segment. */
  c->cwnd = c->retransmits ? c->snd_mss : initial_window(c);
  c->ssthresh = CWND_MAX; /* "arbitrarily high" */
  c->recover = c->iss;    /* RFC 6582 §3.2 (1) */
  c->dupacks = 0;
  c->bytes_acked = 0;
}

/* New data acknowledged: `acked` octets up to `ack`. */
void cc_on_ack(sk_conn *c, uint32_t ack, uint32_t acked, uint64_t now) {
  c->dupacks = 0;
  if (!(c->flags & CF_RECOVERY)) {
    /* recover must stay within half the sequence space of SND.UNA, or
     * after 2^31 octets without a loss it would seem ahead again and
     * forbid fast retransmit (RFC 6582 §3.2 (2)) */
    if (seq_lt(c->recover, c->snd_una))
      c->recover = c->snd_una;
    if (acked)
      algo(c)->cong_avoid(c, acked);
    return;
  }
  if (seq_geq(ack, c->recover)) {
    /* RFC 6582 §3.2 (3), full ACK: deflate the window and leave recovery
     * (option 1 of the step, which avoids a burst); the same for SACK. */
    c->cwnd =
        min32(c->ssthresh, max32(flight_size(c), c->snd_mss) + c->snd_mss);
    c->flags &= ~(uint32_t)CF_RECOVERY;
    return;
  }
  if (c->flags & CF_SACK) /* RFC 6675: the pipe decides what goes next */
    return;
  /* (4), partial ACK: the next hole was lost too; resend it at once, and
   * deflate by what was acknowledged, adding back one SMSS if that was at
   * least one SMSS.  The RTO restarts on every partial ACK (ack processing
   * already does it): the "Slow-but-Steady" variant of §4. */
  tcp_retransmit_head(c, now);
  c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
  if (acked >= c->snd_mss)
    c->cwnd += c->snd_mss;
  if (c->cwnd < c->snd_mss)
    c->cwnd = c->snd_mss;
}

/* RFC 6675 §5: loss recovery with the scoreboard.  cwnd and ssthresh are
 * set as for fast retransmit, the first unacknowledged segment goes at
 * once, and the pipe decides the rest (output.c). */
void cc_sack_recovery(sk_conn *c, uint64_t now) {
  if (seq_lt(c->snd_una, c->recover)) /* (4.1): a window already recovered */
    return;
  c->ssthresh = algo(c)->ssthresh(c);
  c->cwnd = c->ssthresh;
  c->recover = c->snd_max;
  c->flags |= CF_RECOVERY;
  c->stack->stats.fast_retransmits++;
  tcp_retransmit_head(c, now);
  c->high_rxt = c->snd_una + min32(flight_size(c), c->snd_mss);
}

/* A duplicate ACK (RFC 5681 §2 defines one; input.c checks it). */
void cc_on_dupack(sk_conn *c, uint64_t now) {
  if (c->flags & CF_SACK) { /* RFC 6675: DupThresh duplicates start it */
    if (!(c->flags & CF_RECOVERY) && ++c->dupacks >= 3)
      cc_sack_recovery(c, now);
    return;
  }
  if (c->flags & CF_RECOVERY) { /* RFC 5681 §3.2 (4): inflate */
    c->cwnd = min32(c->cwnd + c->snd_mss, CWND_MAX);
    return;
  }
  if (++c->dupacks != 3)
    return;
  /* RFC 6582 §3.2 (2): no fast retransmit for losses in a window already
   * recovered from (after a timeout, recover is the highest seq sent). */
  if (seq_lt(c->snd_una, c->recover))
    return;
  c->ssthresh = algo(c)->ssthresh(c);
  c->recover = c->snd_max;
  c->flags |= CF_RECOVERY;
  c->stack->stats.fast_retransmits++;
  tcp_retransmit_head(c, now);
  c->cwnd = c->ssthresh + 3 * c->snd_mss; /* RFC 5681 §3.2 (3) */
}

/* The retransmission timer fired (RFC 5681 §3.1, (4) and the loss window
 * of one segment).  ssthresh is cut on the first timeout only: "held
 * constant" while the same segment keeps timing out. */
void cc_on_timeout(sk_conn *c) {
  if (c->backoff == 0)
    c->ssthresh = algo(c)->ssthresh(c);
  c->cwnd = c->snd_mss;
  c->bytes_acked = 0;
  c->dupacks = 0;
  c->flags &= ~(uint32_t)CF_RECOVERY;
  c->recover = c->snd_max; /* RFC 6582 §3.2 (1) after a timeout */
}

/* How much may be outstanding: cwnd, plus one SMSS for each of the first
 * two duplicate ACKs (Limited Transmit, RFC 3042 §2: new data then makes
 * the duplicates a small window would not produce). */
uint32_t cc_send_window(const sk_conn *c) {
  if (!(c->flags & CF_RECOVERY) && c->dupacks && c->dupacks < 3)
    return c->cwnd + c->dupacks * c->snd_mss;
  return c->cwnd;
}

/* RFC 5681 §4.1: after an idle period longer than the RTO, restart from
 * at most the initial window. */
void cc_before_send(sk_conn *c, uint64_t now) {
  if (c->snd_una == c->snd_max && now - c->last_send > c->rto) {
    uint32_t iw = initial_window(c);
    if (c->cwnd > iw)
      c->cwnd = iw;
  }
}
