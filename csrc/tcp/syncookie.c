/*
 * syncookie.c — SYN cookies in the layout of Linux's (D. J. Bernstein's
 * scheme, as net/ipv4/syncookies.c arranges it), with SipHash-2-4 for
 * both hashes:
 *
 *   cookie = H1(tuple) + peer_isn + (count << 24)
 *          + ((H2(tuple, count, peer_isn) + mss_index) & 0xffffff)
 *
 * count is a 64-second counter.  Checking subtracts H1 and peer_isn, reads
 * the counter's low 8 bits from the top byte, and subtracts H2 of the full
 * counter they stand for: what remains must be a valid MSS index.  A
 * forged ACK passes only if the top byte names one of the 2 accepted
 * periods (2/256) and the low 24 bits land on one of the 4 indexes
 * (4/2^24): 2^-29.
 */
#include "syncookie.h"

#include "wire.h"

#define COOKIE_BITS 24u
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)

/* Linux's table: the MSS values most seen on the Internet. */
const uint16_t cookie_mss_table[COOKIE_NMSS] = {536, 1300, 1440, 1460};

/* H1 hashes the 4-tuple alone; H2 also the counter and the peer's ISN,
 * so that a cookie seen once cannot be replayed with another ISN. */
static uint32_t hash(const sipkey *k, const cookie_tuple *t, uint32_t count,
                     uint32_t peer_isn, uint8_t which) {
  uint8_t m[21];
  wr32(m, t->laddr);
  wr32(m + 4, t->raddr);
  wr16(m + 8, t->lport);
  wr16(m + 10, t->rport);
  wr32(m + 12, count);
  wr32(m + 16, peer_isn);
  m[20] = which;
  return (uint32_t)siphash24(k, m, sizeof m);
}

uint32_t cookie_mss_index(uint32_t mss) {
  uint32_t i = COOKIE_NMSS - 1;
  while (i > 0 && cookie_mss_table[i] > mss)
    i--;
  return i;
}

uint32_t cookie_make(const sipkey *k, const cookie_tuple *t, uint32_t peer_isn,
                     uint32_t count, uint32_t mss_index) {
  return hash(k, t, 0, 0, 1) + peer_isn + (count << COOKIE_BITS) +
         ((hash(k, t, count, peer_isn, 2) + mss_index) & COOKIE_MASK);
}

int cookie_check(const sipkey *k, const cookie_tuple *t, uint32_t peer_isn,
                 uint32_t cookie, uint32_t count, uint32_t *mss_index) {
  uint32_t diff = cookie - hash(k, t, 0, 0, 1) - peer_isn;
  uint32_t age = (count - (diff >> COOKIE_BITS)) & 0xffu;
  uint32_t idx = (diff - hash(k, t, count - age, peer_isn, 2)) & COOKIE_MASK;
  if (idx >= COOKIE_NMSS)
    return COOKIE_MISMATCH;
  if (age >= COOKIE_MAX_AGE)
    return COOKIE_EXPIRED;
  *mss_index = idx;
  return COOKIE_OK;
}

uint32_t cookie_ts_encode(uint32_t ts_now, int wscale, int sack_ok) {
  uint32_t mask = (1u << COOKIE_TS_BITS) - 1;
  uint32_t bits =
      (wscale < 0 ? 0xfu : (uint32_t)wscale) | (sack_ok ? 0x10u : 0);
  uint32_t ts = (ts_now & ~mask) | bits;
  if ((int32_t)(ts - ts_now) > 0) /* never ahead of our clock */
    ts -= mask + 1;
  return ts;
}

int cookie_ts_decode(uint32_t ts_ecr, int *wscale, int *sack_ok) {
  uint32_t ws = ts_ecr & 0xf;
  if (ts_ecr & 0x20) /* the ECN bit: never set, as synack has no ECN */
    return 0;
  if (ws > 14 && ws != 0xf)
    return 0;
  *wscale = ws == 0xf ? -1 : (int)ws;
  *sack_ok = (ts_ecr & 0x10) != 0;
  return 1;
}
