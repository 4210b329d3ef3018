/*
 * isn.c — initial sequence numbers (RFC 6528) and the keyed function of a
 * 4-tuple that every other per-connection secret is drawn from.
 *
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a timer that ticks every 4 microseconds and F a keyed
 * pseudorandom function.  F is SipHash-2-4 keyed by the stack's secret:
 * an off-path attacker cannot guess the ISN of a 4-tuple, yet successive
 * incarnations of one 4-tuple get increasing ISNs (RFC 9293 §3.4.1), so
 * old duplicates fall outside the new connection's window.
 */
#include "stack.h"

uint64_t stack_prf(const sk_stack *s, int domain, uint32_t laddr,
                   uint16_t lport, uint32_t raddr, uint16_t rport,
                   uint32_t extra) {
  uint8_t m[17];
  wr32(m, laddr);
  wr32(m + 4, raddr);
  wr16(m + 8, lport);
  wr16(m + 10, rport);
  wr32(m + 12, extra);
  m[16] = (uint8_t)domain; /* each use hashes its own domain */
  return siphash24(&s->key, m, sizeof m);
}

/* One SipHash per 4-tuple gives both of its secrets: F of RFC 6528 in
 * the low half, the RFC 7323 timestamp offset in the high half (a PRF's
 * halves are independent). */
uint64_t tuple_secret(const sk_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport) {
  return stack_prf(s, PRF_ISN, laddr, lport, raddr, rport, 0);
}

uint32_t isn_at(uint64_t now, uint64_t secret) {
  return (uint32_t)(now / 4) + (uint32_t)secret; /* RFC 6528 §3: M + F */
}
