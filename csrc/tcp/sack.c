/*
 * sack.c — selective acknowledgments (RFC 2018): the blocks a receiver
 * reports, with D-SACK (RFC 2883), and the sender's scoreboard with the
 * conservative loss recovery of RFC 6675, which resends only the holes.
 */
#include <string.h>

#include "tcb.h"

#define SACK_RANGES 32 /* scoreboard ranges kept at most */
#define DUPTHRESH 3    /* RFC 6675 §2 */

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* ---- receiver: the blocks of our ACKs (RFC 2018 §4) ---------------------- */

/* An out-of-order segment arrived at `seq`: its block will be reported
 * first, the ones reported recently after it. */
void sack_note_arrival(sk_conn *c, uint32_t seq) {
  int i, n = SACK_RECENT - 1;
  for (i = 0; i < SACK_RECENT - 1; i++)
    if (c->sack_recent[i] == seq) {
      n = i;
      break;
    }
  memmove(c->sack_recent + 1, c->sack_recent, (size_t)n * sizeof(uint32_t));
  c->sack_recent[0] = seq;
  if (c->sack_nrecent < SACK_RECENT)
    c->sack_nrecent++;
}

static const asm_range *range_holding(const sk_conn *c, uint32_t seq) {
  unsigned i;
  for (i = 0; i < c->ooo.n; i++)
    if (seq_in(seq, c->ooo.r[i].lo, c->ooo.r[i].hi))
      return &c->ooo.r[i];
  return NULL;
}

static int already(const tcp_opts *o, uint32_t lo) {
  unsigned i;
  for (i = 0; i < o->nsack; i++)
    if (o->sack[i][0] == lo)
      return 1;
  return 0;
}

static void add_block(tcp_opts *o, uint32_t lo, uint32_t hi, unsigned max) {
  if (o->nsack < max && !already(o, lo)) {
    o->sack[o->nsack][0] = lo;
    o->sack[o->nsack][1] = hi;
    o->nsack++;
  }
}

/* Fills the SACK option of an ACK: a D-SACK block first when a duplicate
 * arrived (RFC 2883 §4), then the block holding the latest out-of-order
 * arrival, then the most recently reported others, then any left; at most
 * `max` (4, or 3 beside timestamps, to fit 40 octets of options). */
void sack_fill(sk_conn *c, tcp_opts *o, unsigned max) {
  unsigned i;
  o->nsack = 0;
  if (c->flags & CF_DSACK) {
    add_block(o, c->dsack[0], c->dsack[1], max);
    c->flags &= ~(uint32_t)CF_DSACK;
  }
  for (i = 0; i < c->sack_nrecent; i++) {
    const asm_range *r = range_holding(c, c->sack_recent[i]);
    if (r)
      add_block(o, r->lo, r->hi, max);
  }
  for (i = 0; i < c->ooo.n; i++)
    add_block(o, c->ooo.r[i].lo, c->ooo.r[i].hi, max);
  if (o->nsack)
    o->has |= HAS_SACK;
}

/* A duplicate [lo, hi) arrived: report it in the next ACK (RFC 2883). */
void sack_note_duplicate(sk_conn *c, uint32_t lo, uint32_t hi) {
  if (!(c->flags & CF_SACK) || !seq_lt(lo, hi))
    return;
  c->flags |= CF_DSACK;
  c->dsack[0] = lo;
  c->dsack[1] = hi;
}

/* ---- sender: the scoreboard -------------------------------------------------
 */

/* The blocks of an ACK: each must lie within (SND.UNA, SND.MAX] and be
 * non-empty, or it is ignored (a D-SACK below SND.UNA carries nothing for
 * the scoreboard; RFC 2018 §8 leaves the sender free to doubt blocks). */
void sack_update(sk_conn *c, const tcp_opts *o) {
  unsigned i;
  if (!(c->flags & CF_SACK) || !(o->has & HAS_SACK))
    return;
  for (i = 0; i < o->nsack; i++) {
    uint32_t lo = o->sack[i][0], hi = o->sack[i][1];
    if (!seq_lt(lo, hi) || seq_leq(lo, c->snd_una) || seq_gt(hi, c->snd_max)) {
      c->stack->stats.sack_blocks_ignored++;
      continue;
    }
    if (asm_add(&c->sacked, &c->stack->mem, lo, hi, SACK_RANGES) != ASM_OK)
      c->stack->stats.sack_blocks_ignored++;
  }
}

/* SND.UNA moved: what is below it is no longer the scoreboard's. */
void sack_advance(sk_conn *c) {
  if (c->sacked.n)
    asm_advance(&c->sacked, &c->stack->mem, c->snd_una);
  if (c->sacked.n && seq_lt(c->sacked.r[0].lo, c->snd_una))
    c->sacked.r[0].lo = c->snd_una;
}

/* RFC 2018 §8: after a timeout the receiver may have reneged; forget. */
void sack_forget(sk_conn *c) { asm_free(&c->sacked, &c->stack->mem); }

/* Octets SACKed above seq, and the number of ranges they form. */
static uint32_t sacked_above(const sk_conn *c, uint32_t seq, unsigned *ranges) {
  uint32_t n = 0;
  unsigned i;
  *ranges = 0;
  for (i = 0; i < c->sacked.n; i++) {
    const asm_range *r = &c->sacked.r[i];
    if (seq_leq(r->hi, seq))
      continue;
    n += seq_lt(r->lo, seq) ? r->hi - seq : r->hi - r->lo;
    (*ranges)++;
  }
  return n;
}

/* RFC 6675 §4, IsLost: DupThresh discontiguous SACKed ranges, or more than
 * (DupThresh - 1) * SMSS octets SACKed, above seq. */
static int is_lost(const sk_conn *c, uint32_t seq) {
  unsigned ranges;
  uint32_t bytes = sacked_above(c, seq, &ranges);
  return ranges >= DUPTHRESH || bytes > (DUPTHRESH - 1) * c->snd_mss;
}

int sack_loss_detected(const sk_conn *c) {
  return c->sacked.n && is_lost(c, c->snd_una);
}

/* The first hole at or above seq and below the highest SACKed octet. */
static int next_hole(const sk_conn *c, uint32_t seq, uint32_t *lo,
                     uint32_t *hi) {
  unsigned i;
  for (i = 0; i < c->sacked.n; i++) {
    const asm_range *r = &c->sacked.r[i];
    if (seq_lt(seq, r->lo)) {
      *lo = seq;
      *hi = r->lo;
      return 1;
    }
    if (seq_lt(seq, r->hi))
      seq = r->hi;
  }
  return 0;
}

/* RFC 6675 §4, SetPipe: the octets in flight are those not SACKed and not
 * deemed lost, plus those retransmitted (up to HighRxt). */
uint32_t sack_pipe(const sk_conn *c) {
  uint32_t pipe = 0, seq = c->snd_una, lo, hi, high = c->snd_max;
  unsigned i;
  /* holes below the highest SACKed octet */
  while (next_hole(c, seq, &lo, &hi)) {
    uint32_t s;
    for (s = lo; seq_lt(s, hi); s += min32(c->snd_mss, hi - s)) {
      uint32_t len = min32(c->snd_mss, hi - s);
      if (!is_lost(c, s))
        pipe += len;
      if (seq_lt(s, c->high_rxt))
        pipe += min32(len, c->high_rxt - s);
    }
    seq = hi;
  }
  /* above the last SACKed range: in flight, not lost */
  for (i = 0; i < c->sacked.n; i++)
    if (seq_gt(c->sacked.r[i].hi, seq))
      seq = c->sacked.r[i].hi;
  if (seq_lt(seq, high))
    pipe += high - seq;
  return pipe;
}

/* RFC 6675 §4, NextSeg (rule 1): the first octets of a hole deemed lost
 * and not yet resent in this recovery.  0 when there is none. */
int sack_next_lost(const sk_conn *c, uint32_t *seq, uint32_t *len) {
  uint32_t from = seq_gt(c->high_rxt, c->snd_una) ? c->high_rxt : c->snd_una;
  uint32_t lo, hi;
  if (!next_hole(c, from, &lo, &hi) || !is_lost(c, lo))
    return 0;
  *seq = lo;
  *len = min32(c->snd_mss, hi - lo);
  return 1;
}
