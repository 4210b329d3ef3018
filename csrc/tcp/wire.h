/*
 * wire.h — IPv4 and TCP headers on the wire: parse, build, checksum.
 *
 * Parsing trusts nothing: every length is checked against the bytes that
 * are really there before a field is read.  A parsed segment points into
 * the caller's buffer; it is valid as long as that buffer is.
 */
#ifndef SK_WIRE_H
#define SK_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
  TCP_FIN = 0x01,
  TCP_SYN = 0x02,
  TCP_RST = 0x04,
  TCP_PSH = 0x08,
  TCP_ACK = 0x10,
  TCP_URG = 0x20,
  TCP_ECE = 0x40,
  TCP_CWR = 0x80
};

enum { IP_PROTO_TCP = 6, IP_HDR_LEN = 20, TCP_HDR_LEN = 20, TCP_OPT_MAX = 40 };

/* Option kinds (RFC 9293 §3.1, RFC 7323, RFC 2018). */
enum {
  OPT_EOL = 0,
  OPT_NOP = 1,
  OPT_MSS = 2,
  OPT_WSCALE = 3,
  OPT_SACK_PERM = 4,
  OPT_SACK = 5,
  OPT_TS = 8
};

/* Which options a segment carries. */
enum {
  HAS_MSS = 1 << 0,
  HAS_WSCALE = 1 << 1,
  HAS_SACK_PERM = 1 << 2,
  HAS_TS = 1 << 3,
  HAS_SACK = 1 << 4,
  HAS_ODD_OPTION = 1 << 6, /* an option of the wrong length or value: ignored
                              (a window scale past 14 is clamped later) */
  HAS_BAD_OPTION = 1 << 7  /* parsing stopped at a malformed option */
};

#define TCP_MAX_SACK 4

typedef struct tcp_opts {
  uint8_t has;
  uint8_t wscale;
  uint8_t nsack;
  uint16_t mss;
  uint32_t ts_val, ts_ecr;
  uint32_t sack[TCP_MAX_SACK][2]; /* left, right edges */
} tcp_opts;

typedef struct tcp_seg {
  /* IPv4 */
  uint32_t saddr, daddr; /* host byte order */
  uint16_t ip_id;
  uint8_t ttl, tos;
  /* TCP */
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint16_t win, urp;
  uint8_t flags;
  uint8_t hdr_len;         /* TCP header with options, bytes */
  const uint8_t *raw_opts; /* the option bytes as received */
  uint8_t raw_opts_len;
  tcp_opts opts;
  const uint8_t *data;
  uint32_t len; /* payload bytes */
} tcp_seg;

/* Why a packet was refused; each maps to a drop reason of stats(). */
enum wire_status {
  WIRE_OK = 0,
  WIRE_IP_HEADER,    /* not version 4, or a header length below 20 */
  WIRE_IP_LENGTH,    /* total length not the packet's, or below the header */
  WIRE_IP_CKSUM,     /* IPv4 header checksum wrong */
  WIRE_FRAGMENT,     /* more-fragments set, or an offset */
  WIRE_NOT_TCP,      /* another protocol */
  WIRE_IP_OPTIONS,   /* an IPv4 option of impossible length */
  WIRE_SOURCE_ROUTE, /* a loose or strict source route (RFC 791) */
  WIRE_TCP_HEADER,   /* TCP header cut short, data offset impossible */
  WIRE_BAD_CKSUM,    /* TCP checksum wrong */
};

/* Parses an IPv4 packet carrying TCP.  With verify set, both checksums are
 * checked.  On any status but WIRE_OK, *seg is partly filled and must not
 * be used. */
int wire_parse(const uint8_t *pkt, size_t len, int verify, tcp_seg *seg);
/* The sk_drop reason of a status other than WIRE_OK. */
int wire_drop_reason(int status);

/* Parses TCP options; stops (and sets HAS_BAD_OPTION) at the first option
 * whose length is impossible, keeping what came before. */
void wire_parse_options(const uint8_t *p, size_t n, tcp_opts *o);

/* Writes the options of *o in the order Linux uses (MSS, SACK-permitted,
 * timestamps, window scale, SACK blocks), padded with NOPs to a multiple of
 * four.  Returns the length, or 0 if they do not fit in `cap`. */
size_t wire_build_options(const tcp_opts *o, uint8_t *p, size_t cap);

/* Builds a whole IPv4 + TCP packet from *seg: options come from
 * seg->raw_opts when set, else from seg->opts.  When seg->data is NULL the
 * caller has already put seg->len payload bytes where they belong.  Fills both
 * checksums; with bad_cksum the TCP checksum is deliberately wrong.  Returns
 * the packet length, or 0 if it does not fit in `cap` or exceeds 65535 bytes.
 */
size_t wire_build(const tcp_seg *seg, int bad_cksum, uint8_t *buf, size_t cap);

/* RFC 1071: the ones'-complement sum of `n` bytes added to `sum`.  Pieces
 * may be chained as long as only the last one has an odd length. */
uint64_t cksum_add(uint64_t sum, const void *p, size_t n);
uint16_t cksum_fold(uint64_t sum); /* fold and complement: the field value */

/* The flags as tcpdump prints them: "S.", "FP.", "R", "" for none. */
size_t wire_flags_str(uint8_t flags, char *buf, size_t cap);
/* Inverse of wire_flags_str; -1 for an unknown letter. */
int wire_flags_parse(const char *s, size_t n);

static inline uint16_t rd16(const uint8_t *p) {
  return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

#endif
