/*
 * rtt.c — the retransmission timeout of RFC 6298: SRTT, RTTVAR, RTO,
 * clamped to [rto_min, rto_max], doubled on each timeout.
 */
#include "tcb.h"

#define CLOCK_G 1000u /* G of RFC 6298 (2.2): we count in 1 ms ticks */

void rtt_init(sk_conn *c) {
  c->srtt = 0;
  c->rttvar = 0;
  c->rto = c->prm->rto_initial; /* (2.1) */
}

static void rto_from_estimate(sk_conn *c) {
  uint64_t k = 4 * (uint64_t)c->rttvar, rto;
  rto = c->srtt + (k > CLOCK_G ? k : CLOCK_G);
  if (rto < c->prm->rto_min) /* (2.4) */
    rto = c->prm->rto_min;
  if (rto > c->prm->rto_max) /* (2.5) */
    rto = c->prm->rto_max;
  c->rto = (uint32_t)rto;
}

/* A measurement r (µs) of a segment that was not retransmitted (Karn). */
void rtt_sample(sk_conn *c, uint32_t r) {
  if (r == 0)
    r = 1;            /* SRTT 0 means "no sample yet" */
  if (c->srtt == 0) { /* (2.2) the first measurement */
    c->srtt = r;
    c->rttvar = r / 2;
  } else { /* (2.3) beta = 1/4, alpha = 1/8 */
    uint32_t delta = c->srtt > r ? c->srtt - r : r - c->srtt;
    c->rttvar = (uint32_t)((3 * (uint64_t)c->rttvar + delta) / 4);
    c->srtt = (uint32_t)((7 * (uint64_t)c->srtt + r) / 8);
    if (c->srtt == 0)
      c->srtt = 1;
  }
  rto_from_estimate(c);
}

/* The RTO shifted left by the backoff count, within rto_max: the persist
 * timer's interval, which leaves the RTO itself alone. */
uint32_t rtt_backed_off(const sk_conn *c) {
  uint64_t t = (uint64_t)c->rto << (c->backoff > 30 ? 30 : c->backoff);
  return (uint32_t)(t > c->prm->rto_max ? c->prm->rto_max : t);
}

/* (5.5): back off the timer, within rto_max. */
void rtt_backoff(sk_conn *c) {
  uint64_t rto = 2 * (uint64_t)c->rto;
  c->rto = (uint32_t)(rto > c->prm->rto_max ? c->prm->rto_max : rto);
}
