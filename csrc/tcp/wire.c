/*
 * wire.c — IPv4 and TCP headers on the wire (RFC 791, RFC 9293 §3.1),
 * options (RFC 9293 §3.2, RFC 7323, RFC 2018) and the Internet checksum
 * (RFC 1071).
 */
#include "wire.h"

#include "../synack.h"

#include <string.h>

/* ---- checksum (RFC 1071) ------------------------------------------------- */

/* 64-bit words into two sums (two chains the CPU runs side by side),
 * their carries counted apart and added back around once at the end (RFC 1071
 * §2(C), "deferred carries"; any word size works, as 2^16 = 1 modulo 2^16 - 1).
 * The sum is byte-order independent (§2(B)): add the bytes as they lie in
 * memory and store the result the same way. Pieces chain as long as each but
 * the last has an even length. */
uint64_t cksum_add(uint64_t sum, const void *data, size_t n) {
  const uint8_t *p = data;
  uint64_t s0 = sum, s1 = 0, c0 = 0, c1 = 0, w0, w1, w2, w3;
  while (n >= 32) { /* two chains of add-with-carry, side by side */
    memcpy(&w0, p, 8);
    memcpy(&w1, p + 8, 8);
    memcpy(&w2, p + 16, 8);
    memcpy(&w3, p + 24, 8);
    s0 += w0;
    c0 += s0 < w0;
    s1 += w1;
    c1 += s1 < w1;
    s0 += w2;
    c0 += s0 < w2;
    s1 += w3;
    c1 += s1 < w3;
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    memcpy(&w0, p, 8);
    s0 += w0;
    c0 += s0 < w0;
    p += 8;
    n -= 8;
  }
  s0 += s1;
  c0 += s0 < s1;
  c0 += c1;
  s0 += c0;
  if (s0 < c0) /* the end-around carry */
    s0++;
  sum = s0;
  sum = (sum & 0xffffffffu) + (sum >> 32); /* room for the tail below */
  while (n >= 4) {
    uint32_t w;
    memcpy(&w, p, 4);
    sum += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    memcpy(&w, p, 2);
    sum += w;
    p += 2;
    n -= 2;
  }
  if (n) { /* odd trailing byte: padded with a zero byte (RFC 1071 §1) */
    uint8_t last[2] = {p[0], 0};
    uint16_t w;
    memcpy(&w, last, 2);
    sum += w;
  }
  return sum;
}

uint16_t cksum_fold(uint64_t sum) {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t)~sum;
}

/* The TCP pseudo-header (RFC 9293 §3.1): source, destination, zero,
 * protocol, TCP length. */
static uint64_t pseudo_sum(uint32_t saddr, uint32_t daddr, uint32_t tcplen) {
  uint8_t ph[12];
  wr32(ph, saddr);
  wr32(ph + 4, daddr);
  ph[8] = 0;
  ph[9] = IP_PROTO_TCP;
  wr16(ph + 10, (uint16_t)tcplen);
  return cksum_add(0, ph, sizeof ph);
}

/* ---- options ------------------------------------------------------------- */

static void parse_one_option(uint8_t kind, const uint8_t *v, size_t vlen,
                             tcp_opts *o) {
  switch (kind) {
  case OPT_MSS:
    /* A zero MSS would stall the sender; ignore it like a missing one. */
    if (vlen == 2 && rd16(v) != 0) {
      o->has |= HAS_MSS;
      o->mss = rd16(v);
    } else
      o->has |= HAS_ODD_OPTION;
    break;
  case OPT_WSCALE:
    if (vlen == 1) {
      o->has |= HAS_WSCALE;
      o->wscale = v[0];
      if (v[0] > 14) /* RFC 7323 §2.3: used as 14 */
        o->has |= HAS_ODD_OPTION;
    } else
      o->has |= HAS_ODD_OPTION;
    break;
  case OPT_SACK_PERM:
    if (vlen == 0)
      o->has |= HAS_SACK_PERM;
    else
      o->has |= HAS_ODD_OPTION;
    break;
  case OPT_TS:
    if (vlen == 8) {
      o->has |= HAS_TS;
      o->ts_val = rd32(v);
      o->ts_ecr = rd32(v + 4);
    } else
      o->has |= HAS_ODD_OPTION;
    break;
  case OPT_SACK:
    if (vlen < 8 || vlen % 8 != 0) {
      o->has |= HAS_ODD_OPTION;
    } else {
      size_t i, nblk = vlen / 8;
      o->has |= HAS_SACK;
      o->nsack = 0;
      for (i = 0; i < nblk && i < TCP_MAX_SACK; i++) {
        o->sack[i][0] = rd32(v + 8 * i);
        o->sack[i][1] = rd32(v + 8 * i + 4);
        o->nsack++;
      }
    }
    break;
  default: /* unknown options are skipped (RFC 9293 §3.1, MUST-6) */
    break;
  }
}

void wire_parse_options(const uint8_t *p, size_t n, tcp_opts *o) {
  size_t i = 0;
  memset(o, 0, sizeof *o);
  while (i < n) {
    uint8_t kind = p[i], olen;
    if (kind == OPT_EOL)
      break;
    if (kind == OPT_NOP) {
      i++;
      continue;
    }
    /* Every other option has a length byte that counts kind and length
     * themselves: below 2, or past the header, it cannot be trusted and
     * neither can anything after it (RFC 9293 §3.1, MUST-7). */
    if (i + 1 >= n || (olen = p[i + 1]) < 2 || olen > n - i) {
      o->has |= HAS_BAD_OPTION;
      break;
    }
    parse_one_option(kind, p + i + 2, (size_t)olen - 2, o);
    i += olen;
  }
}

size_t wire_build_options(const tcp_opts *o, uint8_t *p, size_t cap) {
  uint8_t buf[64];
  size_t n = 0, i;
  if (o->has & HAS_MSS) {
    buf[n++] = OPT_MSS;
    buf[n++] = 4;
    wr16(buf + n, o->mss);
    n += 2;
  }
  if ((o->has & HAS_SACK_PERM) && (o->has & HAS_TS)) {
    buf[n++] = OPT_SACK_PERM;
    buf[n++] = 2;
  } else if (o->has & HAS_SACK_PERM) {
    buf[n++] = OPT_NOP;
    buf[n++] = OPT_NOP;
    buf[n++] = OPT_SACK_PERM;
    buf[n++] = 2;
  } else if (o->has & HAS_TS) {
    buf[n++] = OPT_NOP;
    buf[n++] = OPT_NOP;
  }
  if (o->has & HAS_TS) {
    buf[n++] = OPT_TS;
    buf[n++] = 10;
    wr32(buf + n, o->ts_val);
    wr32(buf + n + 4, o->ts_ecr);
    n += 8;
  }
  if (o->has & HAS_WSCALE) {
    buf[n++] = OPT_NOP;
    buf[n++] = OPT_WSCALE;
    buf[n++] = 3;
    buf[n++] = o->wscale;
  }
  if ((o->has & HAS_SACK) && o->nsack > 0) {
    size_t nblk = o->nsack > TCP_MAX_SACK ? TCP_MAX_SACK : o->nsack;
    buf[n++] = OPT_NOP;
    buf[n++] = OPT_NOP;
    buf[n++] = OPT_SACK;
    buf[n++] = (uint8_t)(2 + 8 * nblk);
    for (i = 0; i < nblk; i++) {
      wr32(buf + n, o->sack[i][0]);
      wr32(buf + n + 4, o->sack[i][1]);
      n += 8;
    }
  }
  while (n % 4)
    buf[n++] = OPT_NOP;
  if (n > cap || n > TCP_OPT_MAX)
    return 0;
  memcpy(p, buf, n);
  return n;
}

/* ---- parse --------------------------------------------------------------- */

/* IPv4 options (RFC 791 §3.1): skipped, as RFC 1122 §3.2.1.8 allows for
 * those a host does not implement, once their lengths are sound.  Source
 * routes are refused, as Linux does by default (accept_source_route = 0):
 * honouring one would let a spoofer receive the replies. */
static int parse_ip_options(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t kind = p[i], olen;
    if (kind == 0) /* end of option list */
      break;
    if (kind == 1) { /* no operation */
      i++;
      continue;
    }
    if (i + 1 >= n || (olen = p[i + 1]) < 2 || olen > n - i)
      return WIRE_IP_OPTIONS;
    if (kind == 131 || kind == 137) /* loose, strict source route */
      return WIRE_SOURCE_ROUTE;
    i += olen;
  }
  return WIRE_OK;
}

static int parse_ip(const uint8_t *pkt, size_t len, int verify, tcp_seg *s,
                    size_t *ihl) {
  size_t total;
  uint16_t frag;
  if (len < IP_HDR_LEN || pkt[0] >> 4 != 4)
    return WIRE_IP_HEADER;
  *ihl = (size_t)(pkt[0] & 0x0f) * 4;
  if (*ihl < IP_HDR_LEN)
    return WIRE_IP_HEADER;
  total = rd16(pkt + 2);
  if (*ihl > total || total != len)
    return WIRE_IP_LENGTH;
  if (verify && cksum_fold(cksum_add(0, pkt, *ihl)) != 0)
    return WIRE_IP_CKSUM;
  frag = rd16(pkt + 6);
  if ((frag & 0x3fff) != 0) /* more-fragments set, or an offset */
    return WIRE_FRAGMENT;
  if (pkt[9] != IP_PROTO_TCP)
    return WIRE_NOT_TCP;
  if (*ihl > IP_HDR_LEN) {
    int st = parse_ip_options(pkt + IP_HDR_LEN, *ihl - IP_HDR_LEN);
    if (st != WIRE_OK)
      return st;
  }
  s->tos = pkt[1];
  s->ip_id = rd16(pkt + 4);
  s->ttl = pkt[8];
  s->saddr = rd32(pkt + 12);
  s->daddr = rd32(pkt + 16);
  return WIRE_OK;
}

int wire_parse(const uint8_t *pkt, size_t len, int verify, tcp_seg *s) {
  size_t ihl, tlen;
  const uint8_t *t;
  int st = parse_ip(pkt, len, verify, s, &ihl);
  if (st != WIRE_OK)
    return st;
  t = pkt + ihl;
  tlen = len - ihl;
  if (tlen < TCP_HDR_LEN)
    return WIRE_TCP_HEADER;
  s->hdr_len = (uint8_t)((t[12] >> 4) * 4);
  if (s->hdr_len < TCP_HDR_LEN || s->hdr_len > tlen)
    return WIRE_TCP_HEADER;
  if (verify &&
      cksum_fold(cksum_add(pseudo_sum(s->saddr, s->daddr, (uint32_t)tlen), t,
                           tlen)) != 0)
    return WIRE_BAD_CKSUM;
  s->sport = rd16(t);
  s->dport = rd16(t + 2);
  s->seq = rd32(t + 4);
  s->ack = rd32(t + 8);
  s->flags = t[13];
  s->win = rd16(t + 14);
  s->urp = rd16(t + 18);
  s->raw_opts = t + TCP_HDR_LEN;
  s->raw_opts_len = (uint8_t)(s->hdr_len - TCP_HDR_LEN);
  wire_parse_options(s->raw_opts, s->raw_opts_len, &s->opts);
  s->data = t + s->hdr_len;
  s->len = (uint32_t)(tlen - s->hdr_len);
  return WIRE_OK;
}

int wire_drop_reason(int status) {
  static const uint8_t reason[] = {
      [WIRE_IP_HEADER] = SK_DROP_IP_HEADER,
      [WIRE_IP_LENGTH] = SK_DROP_IP_LENGTH,
      [WIRE_IP_CKSUM] = SK_DROP_IP_CHECKSUM,
      [WIRE_FRAGMENT] = SK_DROP_FRAGMENT,
      [WIRE_NOT_TCP] = SK_DROP_NOT_TCP,
      [WIRE_IP_OPTIONS] = SK_DROP_IP_OPTIONS,
      [WIRE_SOURCE_ROUTE] = SK_DROP_SOURCE_ROUTE,
      [WIRE_TCP_HEADER] = SK_DROP_TCP_HEADER,
      [WIRE_BAD_CKSUM] = SK_DROP_BAD_CHECKSUM,
  };
  return status > 0 && status <= WIRE_BAD_CKSUM ? reason[status] : -1;
}

/* ---- build --------------------------------------------------------------- */

size_t wire_build(const tcp_seg *s, int bad_cksum, uint8_t *buf, size_t cap) {
  uint8_t opts[TCP_OPT_MAX];
  size_t olen, thl, total;
  uint8_t *t = buf + IP_HDR_LEN;
  uint16_t ck;
  if (s->raw_opts) {
    olen = s->raw_opts_len;
    if (olen > TCP_OPT_MAX || olen % 4)
      return 0;
    memcpy(opts, s->raw_opts, olen);
  } else {
    olen = wire_build_options(&s->opts, opts, sizeof opts);
    if (olen == 0 && s->opts.has)
      return 0;
  }
  thl = TCP_HDR_LEN + olen;
  total = IP_HDR_LEN + thl + s->len;
  if (total > cap || total > 65535)
    return 0;

  buf[0] = 0x45;
  buf[1] = s->tos;
  wr16(buf + 2, (uint16_t)total);
  wr16(buf + 4, s->ip_id);
  wr16(buf + 6, 0x4000); /* DF: we do not fragment (RFC 1191) */
  buf[8] = s->ttl;
  buf[9] = IP_PROTO_TCP;
  buf[10] = buf[11] = 0;
  wr32(buf + 12, s->saddr);
  wr32(buf + 16, s->daddr);
  ck = cksum_fold(cksum_add(0, buf, IP_HDR_LEN));
  memcpy(buf + 10, &ck, 2);

  wr16(t, s->sport);
  wr16(t + 2, s->dport);
  wr32(t + 4, s->seq);
  wr32(t + 8, s->ack);
  t[12] = (uint8_t)((thl / 4) << 4);
  t[13] = s->flags;
  wr16(t + 14, s->win);
  t[16] = t[17] = 0;
  wr16(t + 18, s->urp);
  memcpy(t + TCP_HDR_LEN, opts, olen);
  if (s->len && s->data) /* else the payload is already in place */
    memcpy(t + thl, s->data, s->len);
  ck = cksum_fold(
      cksum_add(pseudo_sum(s->saddr, s->daddr, (uint32_t)(thl + s->len)), t,
                thl + s->len));
  if (bad_cksum) /* any other value, and never the other zero 0xffff/0 */
    ck = (uint16_t)(ck ^ 0x5a5a);
  memcpy(t + 16, &ck, 2);
  return total;
}

/* ---- flags as text ------------------------------------------------------- */

/* tcpdump's order: F S R P . U E W */
static const struct {
  uint8_t bit;
  char letter;
} flag_letters[] = {{TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'},
                    {TCP_PSH, 'P'}, {TCP_ACK, '.'}, {TCP_URG, 'U'},
                    {TCP_ECE, 'E'}, {TCP_CWR, 'W'}};

#define NFLAGS (sizeof flag_letters / sizeof flag_letters[0])

size_t wire_flags_str(uint8_t flags, char *buf, size_t cap) {
  size_t i, n = 0;
  for (i = 0; i < NFLAGS; i++)
    if ((flags & flag_letters[i].bit) && n + 1 < cap)
      buf[n++] = flag_letters[i].letter;
  if (cap)
    buf[n] = '\0';
  return n;
}

int wire_flags_parse(const char *s, size_t n) {
  int flags = 0;
  size_t i, j;
  for (i = 0; i < n; i++) {
    for (j = 0; j < NFLAGS && flag_letters[j].letter != s[i]; j++)
      ;
    if (j == NFLAGS)
      return -1;
    flags |= flag_letters[j].bit;
  }
  return flags;
}
