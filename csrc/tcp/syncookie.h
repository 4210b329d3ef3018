/*
 * syncookie.h — SYN cookies: the state a half-open connection would hold,
 * folded into the ISN of the SYN-ACK (and, with timestamps, into the low
 * bits of its TSval), so that a listener under a SYN flood keeps nothing.
 * Layout and reasoning: docs/security.md.  Pure functions of a key, a
 * 4-tuple and a clock.
 */
#ifndef SK_SYNCOOKIE_H
#define SK_SYNCOOKIE_H

#include <stdint.h>

#include "siphash.h"

#define COOKIE_PERIOD 64000000u /* µs: the time counter's tick, 64 s */
#define COOKIE_MAX_AGE 2u       /* periods a cookie is accepted for */
#define COOKIE_NMSS 4u
#define COOKIE_TS_BITS 6u /* low TSval bits: window scale, SACK, ECN */

extern const uint16_t cookie_mss_table[COOKIE_NMSS];

typedef struct cookie_tuple {
  uint32_t laddr, raddr;
  uint16_t lport, rport;
} cookie_tuple;

enum { COOKIE_OK, COOKIE_MISMATCH, COOKIE_EXPIRED };

/* The counter at time `now` (µs). */
static inline uint32_t cookie_count(uint64_t now) {
  return (uint32_t)(now / COOKIE_PERIOD);
}

/* The index of the largest table MSS not above `mss`. */
uint32_t cookie_mss_index(uint32_t mss);

/* The ISN for a SYN with sequence number peer_isn. */
uint32_t cookie_make(const sipkey *k, const cookie_tuple *t, uint32_t peer_isn,
                     uint32_t count, uint32_t mss_index);

/* Checks the cookie a returning ACK carries (SEG.ACK - 1) against
 * peer_isn (SEG.SEQ - 1): COOKIE_OK with *mss_index set, COOKIE_EXPIRED
 * for an authentic cookie older than COOKIE_MAX_AGE periods, or
 * COOKIE_MISMATCH. */
int cookie_check(const sipkey *k, const cookie_tuple *t, uint32_t peer_isn,
                 uint32_t cookie, uint32_t count, uint32_t *mss_index);

/* TSval for the SYN-ACK: `ts_now` with its low 6 bits replaced by the
 * peer's window scale (4 bits, 15 for none) and SACK-permitted (1 bit),
 * never ahead of ts_now. */
uint32_t cookie_ts_encode(uint32_t ts_now, int wscale, int sack_ok);
/* Reads them back from the ACK's TSecr; 0 if the bits are impossible. */
int cookie_ts_decode(uint32_t ts_ecr, int *wscale, int *sack_ok);

#endif
