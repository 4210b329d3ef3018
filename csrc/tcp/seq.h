/*
 * seq.h — sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
 *
 * Sequence numbers wrap, so "a < b" means "a comes before b within half the
 * space": the signed difference decides.  Never compare them with a bare <.
 */
#ifndef SK_SEQ_H
#define SK_SEQ_H

#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b) {
  return (int32_t)(a - b);
}
static inline int seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static inline int seq_leq(uint32_t a, uint32_t b) {
  return seq_diff(a, b) <= 0;
}
static inline int seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
static inline int seq_geq(uint32_t a, uint32_t b) {
  return seq_diff(a, b) >= 0;
}

/* lo <= x < hi, all modulo 2^32: true when x lies in the half-open range
 * that starts at lo and has length hi - lo (an empty range holds nothing). */
static inline int seq_in(uint32_t x, uint32_t lo, uint32_t hi) {
  return x - lo < hi - lo;
}

/* lo <= x <= hi */
static inline int seq_between(uint32_t x, uint32_t lo, uint32_t hi) {
  return x - lo <= hi - lo;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b) {
  return seq_lt(a, b) ? b : a;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b) {
  return seq_lt(a, b) ? a : b;
}

#endif
