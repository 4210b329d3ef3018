/*
 * icmp.c — ICMP errors about segments this stack sent (RFC 1122 §4.2.3.9,
 * RFC 5927).  The link layer that reads ICMP hands the quoted IPv4 header
 * and the first 8 octets of TCP here.  An error must quote a sequence
 * number in flight, or it is ignored: a blind attacker who cannot guess
 * one cannot reset or slow a connection with forged ICMP (RFC 5927 §4.1).
 *
 * Destination unreachable with "protocol" or "port" is a hard error for a
 * connection in SYN-SENT (the host said no one listens: ECONNREFUSED, as
 * Linux does); every other kind is soft: remembered, and given as the
 * reason if the connection later times out (EHOSTUNREACH instead of
 * ETIMEDOUT).  "Fragmentation needed" lowers the MSS to the next hop's
 * MTU (RFC 1191), never below 68 octets of IPv4 (RFC 791).
 */
#include "tcb.h"

enum { ICMP_UNREACH = 3, ICMP_TIME_EXCEEDED = 11, ICMP_PARAM_PROBLEM = 12 };
enum {
  UNREACH_NET = 0,
  UNREACH_HOST = 1,
  UNREACH_PROTO = 2,
  UNREACH_PORT = 3,
  UNREACH_NEEDFRAG = 4
};

static int ignored(sk_stack *s) {
  s->stats.icmp_ignored++;
  return 0;
}

/* Path MTU discovery (RFC 1191 §4): the next hop takes `mtu` octets. */
static void lower_mss(sk_conn *c, uint32_t mtu, uint64_t now) {
  uint32_t mss;
  if (mtu < 68)
    mtu = 68;
  mss = mtu - IP_HDR_LEN - TCP_HDR_LEN - ((c->flags & CF_TS) ? 12 : 0);
  if (mss < 48)
    mss = 48;
  if (mss >= c->snd_mss)
    return;
  c->snd_mss = mss;
  /* what was sent too large is lost: send it again, smaller, now */
  if (c->snd_una != c->snd_max) {
    c->snd_nxt = c->snd_una;
    tcp_output(c, now);
  }
}

int sk_stack_icmp_error(sk_stack *s, uint64_t now, int type, int code,
                        uint32_t info, const uint8_t *inner, size_t len) {
  uint32_t saddr, daddr, seq;
  size_t ihl;
  uint16_t sport, dport;
  sk_conn *c;
  int err;
  if (len < IP_HDR_LEN || inner[0] >> 4 != 4)
    return ignored(s);
  ihl = (size_t)(inner[0] & 0x0f) * 4;
  if (ihl < IP_HDR_LEN || len < ihl + 8 || inner[9] != IP_PROTO_TCP)
    return ignored(s);
  saddr = rd32(inner + 12);
  daddr = rd32(inner + 16);
  sport = rd16(inner + ihl);
  dport = rd16(inner + ihl + 2);
  seq = rd32(inner + ihl + 4);
  if (saddr != s->cfg.addr || (c = conn_lookup(s, daddr, dport, sport)) == NULL)
    return ignored(s);
  /* RFC 5927 §4.1: only about a segment in flight */
  if (c->state == SK_SYN_SENT ? seq != c->iss
                              : !seq_in(seq, c->snd_una, c->snd_max))
    return ignored(s);
  s->stats.icmp_errors++;
  switch (type) {
  case ICMP_UNREACH:
    if (code == UNREACH_NEEDFRAG) {
      lower_mss(c, info & 0xffff, now);
      return 1;
    }
    if ((code == UNREACH_PROTO || code == UNREACH_PORT) &&
        c->state == SK_SYN_SENT) {
      s->stats.conns_refused++;
      tcb_closed(c, SK_ECONNREFUSED, now);
      return 1;
    }
    err = code == UNREACH_NET ? SK_ENETUNREACH : SK_EHOSTUNREACH;
    break;
  case ICMP_TIME_EXCEEDED:
  case ICMP_PARAM_PROBLEM:
    err = SK_EHOSTUNREACH;
    break;
  default:
    s->stats.icmp_errors--;
    return ignored(s);
  }
  c->soft_err = (int8_t)err; /* RFC 1122 §4.2.3.9: soft, told on timeout */
  return 1;
}
