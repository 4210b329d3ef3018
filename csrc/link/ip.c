/*
 * ip.c — the IPv4 host around a stack (RFC 1122 §3.2): demultiplexes by
 * protocol.  TCP goes to the stack, which checks everything else itself.
 * ICMP (RFC 792) is checked here: its checksum, that it is for us and not
 * from an address no host has; echo requests are answered (RFC 1122
 * §3.2.2.6) and errors quoting our segments are handed to the stack (RFC
 * 1122 §4.2.3.9, RFC 5927).  Other ICMP types are ignored, other
 * protocols go to the stack to be counted as not TCP.
 */
#include "ip.h"

#include <string.h>

#include "../tcp/stack.h"

enum { IP_PROTO_ICMP = 1 };
enum {
  ICMP_ECHO_REPLY = 0,
  ICMP_UNREACH = 3,
  ICMP_ECHO = 8,
  ICMP_TIME_EXCEEDED = 11,
  ICMP_PARAM_PROBLEM = 12
};

#define ICMP_MAX 1500 /* echo requests answered up to this size */

/* RFC 1122 §3.2.1.3 and §3.2.2: no ICMP to or from a broadcast,
 * multicast or reserved address, nor from 0/8 or loopback from the wire. */
static int bad_source(uint32_t src, uint32_t us) {
  uint8_t net = (uint8_t)(src >> 24);
  return src == us || net == 0 || (net == 127 && us >> 24 != 127) || net >= 224;
}

static void echo_reply(sk_stack *s, const uint8_t *pkt, size_t ihl, size_t len,
                       sk_output_fn out, void *ctx) {
  uint8_t r[ICMP_MAX];
  uint16_t ck;
  size_t n = len - ihl;
  if (IP_HDR_LEN + n > sizeof r)
    return;
  memset(r, 0, IP_HDR_LEN);
  r[0] = 0x45;
  wr16(r + 2, (uint16_t)(IP_HDR_LEN + n));
  wr16(r + 4, s->ip_id++);
  wr16(r + 6, 0x4000);
  r[8] = s->cfg.ttl;
  r[9] = IP_PROTO_ICMP;
  memcpy(r + 12, pkt + 16, 4); /* back to the sender */
  memcpy(r + 16, pkt + 12, 4);
  ck = cksum_fold(cksum_add(0, r, IP_HDR_LEN));
  memcpy(r + 10, &ck, 2);
  memcpy(r + IP_HDR_LEN, pkt + ihl, n); /* identifier, sequence, data */
  r[IP_HDR_LEN] = ICMP_ECHO_REPLY;
  r[IP_HDR_LEN + 2] = r[IP_HDR_LEN + 3] = 0;
  ck = cksum_fold(cksum_add(0, r + IP_HDR_LEN, n));
  memcpy(r + IP_HDR_LEN + 2, &ck, 2);
  s->stats.icmp_echo++;
  out(ctx, r, IP_HDR_LEN + n);
}

static void icmp_input(sk_stack *s, uint64_t now, const uint8_t *pkt,
                       size_t ihl, size_t len, sk_output_fn out, void *ctx) {
  const uint8_t *m = pkt + ihl;
  size_t n = len - ihl;
  if (n < 8 || cksum_fold(cksum_add(0, m, n)) != 0) {
    stack_drop(s, now, n < 8 ? SK_DROP_IP_LENGTH : SK_DROP_BAD_CHECKSUM);
    return;
  }
  if (rd32(pkt + 16) != s->cfg.addr) {
    stack_drop(s, now, SK_DROP_NOT_FOR_US);
    return;
  }
  if (bad_source(rd32(pkt + 12), s->cfg.addr)) {
    stack_drop(s, now, SK_DROP_BAD_SOURCE);
    return;
  }
  switch (m[0]) {
  case ICMP_ECHO:
    if (m[1] == 0)
      echo_reply(s, pkt, ihl, len, out, ctx);
    break;
  case ICMP_UNREACH:
  case ICMP_TIME_EXCEEDED:
  case ICMP_PARAM_PROBLEM:
    sk_stack_icmp_error(s, now, m[0], m[1], rd32(m + 4), m + 8, n - 8);
    break;
  default: /* replies, redirects (RFC 1122 §3.2.2.2: a host may ignore) */
    break;
  }
}

void sk_ip_input(sk_stack *s, uint64_t now, const uint8_t *pkt, size_t len,
                 sk_output_fn out, void *ctx) {
  size_t ihl;
  /* ICMP needs a sound header first; everything else is the stack's to
   * judge and count. */
  if (len >= IP_HDR_LEN && pkt[0] >> 4 == 4 && pkt[9] == IP_PROTO_ICMP &&
      (ihl = (size_t)(pkt[0] & 0x0f) * 4) >= IP_HDR_LEN && ihl <= len &&
      rd16(pkt + 2) == len && (rd16(pkt + 6) & 0x3fff) == 0 &&
      cksum_fold(cksum_add(0, pkt, ihl)) == 0) {
    if (s->trace)
      s->trace(s->trace_ctx, now, SK_DIR_IN, pkt, len);
    icmp_input(s, now, pkt, ihl, len, out, ctx);
    return;
  }
  sk_stack_input(s, now, pkt, len);
}
