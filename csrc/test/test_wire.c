/* test_wire.c — IPv4/TCP parse and build, options, and the RFC 1071
 * checksum, against known vectors (RFC 1071 §3, a textbook IPv4 header,
 * and packets built by Scapy). */
#include <stdlib.h>
#include <string.h>

#include "../synack.h"
#include "../tcp/wire.h"
#include "check.h"

static size_t unhex(const char *h, uint8_t *out) {
  size_t n = 0;
  for (; h[0] && h[1]; h += 2) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (uint8_t)v;
  }
  return n;
}

static void field_bytes(uint16_t v, uint8_t out[2]) { memcpy(out, &v, 2); }

static void test_checksum(void) {
  /* RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d */
  static const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  uint8_t b[2];
  uint8_t hdr[20];
  field_bytes(cksum_fold(cksum_add(0, ex, sizeof ex)), b);
  CHECK(b[0] == 0x22 && b[1] == 0x0d);
  /* odd length: the last byte is padded with zero: 0001 + f203 + f400 */
  field_bytes(cksum_fold(cksum_add(0, ex, 5)), b);
  CHECK(b[0] == 0x19 && b[1] == 0xfa);
  /* lengths 1..3 exercise every tail of the loop */
  field_bytes(cksum_fold(cksum_add(0, ex + 2, 1)), b); /* f200 */
  CHECK(b[0] == 0x0d && b[1] == 0xff);
  field_bytes(cksum_fold(cksum_add(0, ex + 2, 3)), b); /* f203 + f400 */
  CHECK(b[0] == 0x19 && b[1] == 0xfb);
  /* chained pieces equal one pass when only the last piece is odd */
  CHECK(cksum_fold(cksum_add(cksum_add(0, ex, 4), ex + 4, 3)) ==
        cksum_fold(cksum_add(0, ex, 7)));
  /* a textbook IPv4 header with its checksum b861 sums to zero */
  unhex("4500007300004000"
        "4011b861c0a80001"
        "c0a800c7",
        hdr);
  CHECK_EQ(cksum_fold(cksum_add(0, hdr, 20)), 0);
  hdr[11] ^= 1;
  CHECK(cksum_fold(cksum_add(0, hdr, 20)) != 0);
  /* all-ones data: the sum must not overflow the accumulator */
  {
    static uint8_t ones[65536];
    memset(ones, 0xff, sizeof ones);
    CHECK_EQ(cksum_fold(cksum_add(0, ones, sizeof ones)), 0);
  }
}

/* Built by Scapy: IP(src=10.0.0.1, dst=10.0.0.2, flags=DF, ttl=64) /
 * TCP(sport=49152, dport=80, S, seq=0x12345678, win=65535, MSS 1460). */
static const char *SYN_HEX = "4500002c00004000400626ca0a0000010a000002c0000050"
                             "12345678000000006002ffff5b270000020405b4";
/* IP(192.168.1.10 > 172.16.0.5, id 7) / TCP(443 > 51000, PA,
 * seq=4294967290, ack=1000, win=502) / "odd" (an odd length). */
static const char *DATA_HEX = "4500002b000740004006ccfec0a8010aac100005"
                              "01bbc738fffffffa000003e8501801f69fd000006f6464";

static void test_known_packets(void) {
  uint8_t pkt[64], out[128];
  size_t n = unhex(SYN_HEX, pkt), m;
  tcp_seg s;
  CHECK_EQ(n, 44);
  CHECK_EQ(wire_parse(pkt, n, 1, &s), WIRE_OK);
  CHECK_EQ(s.saddr, 0x0a000001);
  CHECK_EQ(s.daddr, 0x0a000002);
  CHECK_EQ(s.sport, 49152);
  CHECK_EQ(s.dport, 80);
  CHECK_EQ(s.seq, 0x12345678);
  CHECK_EQ(s.flags, TCP_SYN);
  CHECK_EQ(s.win, 65535);
  CHECK_EQ(s.hdr_len, 24);
  CHECK(s.opts.has == HAS_MSS && s.opts.mss == 1460);
  CHECK_EQ(s.len, 0);
  /* building the same fields gives the same bytes, checksums included */
  m = wire_build(&s, 0, out, sizeof out);
  CHECK_EQ(m, n);
  CHECK(memcmp(out, pkt, n) == 0);

  n = unhex(DATA_HEX, pkt);
  CHECK_EQ(n, 43);
  CHECK_EQ(wire_parse(pkt, n, 1, &s), WIRE_OK);
  CHECK_EQ(s.seq, 4294967290u);
  CHECK_EQ(s.ack, 1000);
  CHECK_EQ(s.flags, TCP_PSH | TCP_ACK);
  CHECK_EQ(s.len, 3);
  CHECK(memcmp(s.data, "odd", 3) == 0);
  CHECK_EQ(s.ip_id, 7);
  m = wire_build(&s, 0, out, sizeof out);
  CHECK_EQ(m, n);
  CHECK(memcmp(out, pkt, n) == 0);
  /* bad_cksum builds a packet the parser refuses */
  m = wire_build(&s, 1, out, sizeof out);
  CHECK_EQ(wire_parse(out, m, 1, &s), WIRE_BAD_CKSUM);
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_OK);
}

/* The packet with `opts` (a multiple of 4 bytes) spliced in as IPv4
 * options after the 20-byte header. */
static size_t with_ip_options(const uint8_t *pkt, size_t n, const char *opts,
                              size_t olen, uint8_t *out) {
  memcpy(out, pkt, 20);
  memcpy(out + 20, opts, olen);
  memcpy(out + 20 + olen, pkt + 20, n - 20);
  out[0] = (uint8_t)(0x40 | (20 + olen) / 4);
  wr16(out + 2, (uint16_t)(n + olen));
  return n + olen;
}

/* RFC 791 §3.1 options: skipped when sound (RFC 1122 §3.2.1.8), refused
 * when a length is impossible; source routes refused (Linux's default). */
static void test_ip_options(const uint8_t *pkt, size_t n) {
  uint8_t out[128];
  tcp_seg s;
  size_t m;
  m = with_ip_options(pkt, n, "\x01\x01\x01\x00", 4, out); /* NOPs, EOL */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_OK);
  CHECK_EQ(s.sport, 49152);
  m = with_ip_options(pkt, n, "\x07\x07\x04\x00\x00\x00\x00\x00", 8,
                      out); /* record route, room for one address */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_OK);
  m = with_ip_options(pkt, n, "\x83\x07\x04\x0a\x00\x00\x01\x00", 8,
                      out); /* loose source route */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_SOURCE_ROUTE);
  m = with_ip_options(pkt, n, "\x89\x07\x04\x0a\x00\x00\x01\x00", 8,
                      out); /* strict source route */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_SOURCE_ROUTE);
  m = with_ip_options(pkt, n, "\x07\x00\x00\x00", 4, out); /* length 0 */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_IP_OPTIONS);
  m = with_ip_options(pkt, n, "\x07\x01\x00\x00", 4, out); /* length 1 */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_IP_OPTIONS);
  m = with_ip_options(pkt, n, "\x01\x07\x09\x00", 4, out); /* past it */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_IP_OPTIONS);
  m = with_ip_options(pkt, n, "\x01\x01\x01\x07", 4, out); /* no length */
  CHECK_EQ(wire_parse(out, m, 0, &s), WIRE_IP_OPTIONS);
}

static void test_malformed(void) {
  uint8_t pkt[64], bad[64];
  size_t n = unhex(SYN_HEX, pkt), i;
  tcp_seg s;
  /* every truncation is refused (the total length no longer matches) */
  for (i = 0; i < n; i++)
    CHECK(wire_parse(pkt, i, 1, &s) != WIRE_OK);
  memcpy(bad, pkt, n);
  bad[0] = 0x65; /* version 6 */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_IP_HEADER);
  memcpy(bad, pkt, n);
  bad[0] = 0x44; /* IHL 16 bytes */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_IP_HEADER);
  memcpy(bad, pkt, n);
  bad[0] = 0x4f; /* IHL 60 bytes, longer than the packet */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_IP_LENGTH);
  memcpy(bad, pkt, n);
  bad[3]--; /* total length one short of the packet */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_IP_LENGTH);
  memcpy(bad, pkt, n);
  bad[32] = 0x40; /* data offset 16 bytes */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_TCP_HEADER);
  bad[32] = 0xf0; /* data offset 60 bytes, past the end */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_TCP_HEADER);
  memcpy(bad, pkt, n);
  bad[9] = 17; /* UDP */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_NOT_TCP);
  memcpy(bad, pkt, n);
  bad[6] = 0x20; /* more fragments */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_FRAGMENT);
  memcpy(bad, pkt, n);
  bad[7] = 0x08; /* a fragment offset */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_FRAGMENT);
  memcpy(bad, pkt, n);
  bad[6] = 0x40; /* DF alone is no fragment */
  CHECK_EQ(wire_parse(bad, n, 0, &s), WIRE_OK);
  memcpy(bad, pkt, n);
  bad[40] ^= 0x01; /* one bit of the TCP part */
  CHECK_EQ(wire_parse(bad, n, 1, &s), WIRE_BAD_CKSUM);
  memcpy(bad, pkt, n);
  bad[8] ^= 0x01; /* one bit of the IP header (TTL) */
  CHECK_EQ(wire_parse(bad, n, 1, &s), WIRE_IP_CKSUM);
  CHECK_EQ(wire_drop_reason(WIRE_IP_CKSUM), SK_DROP_IP_CHECKSUM);
  CHECK_EQ(wire_drop_reason(WIRE_OK), -1);
  test_ip_options(pkt, n);
  /* random corruption never crashes the parser (run under ASan/UBSan) */
  srand(1);
  for (i = 0; i < 200000; i++) {
    size_t len = (size_t)rand() % (n + 1), k;
    memcpy(bad, pkt, n);
    for (k = 0; k < 4; k++)
      bad[rand() % n] = (uint8_t)rand();
    (void)wire_parse(bad, len, (int)(i & 1), &s);
  }
  CHECK(1);
}

static void parse_opts(const char *hex, tcp_opts *o) {
  uint8_t b[64];
  size_t n = unhex(hex, b);
  wire_parse_options(b, n, o);
}

static void test_options(void) {
  tcp_opts o, back;
  uint8_t buf[64];
  size_t n;
  parse_opts("020405b4", &o); /* MSS 1460 */
  CHECK(o.has == HAS_MSS && o.mss == 1460);
  parse_opts("01010402080a0000000100000002", &o); /* NOP NOP SACKOK TS */
  CHECK(o.has == (HAS_SACK_PERM | HAS_TS) && o.ts_val == 1 && o.ts_ecr == 2);
  parse_opts("01030307", &o); /* NOP WS 7 */
  CHECK(o.has == HAS_WSCALE && o.wscale == 7);
  parse_opts("00020405b4", &o); /* EOL ends the list */
  CHECK_EQ(o.has, 0);
  parse_opts("0900020405b4", &o); /* kind 9 of length 0: stop there */
  CHECK_EQ(o.has, HAS_BAD_OPTION);
  parse_opts("020405b40901", &o); /* length 1 after a good MSS */
  CHECK(o.has == (HAS_MSS | HAS_BAD_OPTION) && o.mss == 1460);
  parse_opts("0228", &o); /* length runs past the options */
  CHECK_EQ(o.has, HAS_BAD_OPTION);
  parse_opts("02", &o); /* a kind without its length byte */
  CHECK_EQ(o.has, HAS_BAD_OPTION);
  parse_opts("02030500", &o); /* MSS of length 3: not an MSS */
  CHECK_EQ(o.has, HAS_ODD_OPTION);
  parse_opts("02040000", &o); /* MSS 0: ignored, as if absent */
  CHECK_EQ(o.has, HAS_ODD_OPTION);
  parse_opts("0303ff00", &o); /* WS 255: kept, flagged, clamped later */
  CHECK(o.has == (HAS_WSCALE | HAS_ODD_OPTION) && o.wscale == 255);
  parse_opts("030400000000", &o); /* WS of length 4 */
  CHECK_EQ(o.has, HAS_ODD_OPTION);
  parse_opts("04030000", &o); /* SACK-permitted with a value */
  CHECK_EQ(o.has, HAS_ODD_OPTION);
  parse_opts("fe0612345678020405b4", &o); /* an unknown option is skipped */
  CHECK(o.has == HAS_MSS && o.mss == 1460);
  parse_opts("050600000001ff", &o); /* SACK of 4 bytes, then a stray kind */
  CHECK_EQ(o.has, HAS_ODD_OPTION | HAS_BAD_OPTION);
  parse_opts("050e000000010000000200000000", &o); /* 12 bytes: 1.5 blocks */
  CHECK_EQ(o.has, HAS_ODD_OPTION);
  parse_opts("080600000001", &o); /* TS of the wrong length */
  CHECK_EQ(o.has, HAS_ODD_OPTION);
  /* SACK blocks */
  parse_opts("0101050a0000000a00000014", &o);
  CHECK(o.has == HAS_SACK && o.nsack == 1 && o.sack[0][0] == 10 &&
        o.sack[0][1] == 20);

  /* build then parse gives back every option, within 40 bytes */
  memset(&o, 0, sizeof o);
  o.has = HAS_MSS | HAS_SACK_PERM | HAS_TS | HAS_WSCALE;
  o.mss = 1400;
  o.wscale = 14;
  o.ts_val = 0xdeadbeef;
  o.ts_ecr = 7;
  n = wire_build_options(&o, buf, sizeof buf);
  CHECK_EQ(n, 20); /* Linux's SYN layout */
  CHECK(buf[0] == OPT_MSS && buf[4] == OPT_SACK_PERM && buf[6] == OPT_TS &&
        buf[16] == OPT_NOP && buf[17] == OPT_WSCALE);
  wire_parse_options(buf, n, &back);
  CHECK(back.has == o.has && back.mss == 1400 && back.wscale == 14 &&
        back.ts_val == 0xdeadbeef && back.ts_ecr == 7);
  memset(&o, 0, sizeof o);
  o.has = HAS_TS | HAS_SACK;
  o.nsack = 3;
  n = wire_build_options(&o, buf, sizeof buf);
  CHECK_EQ(n, 40); /* timestamps leave room for three SACK blocks */
  o.nsack = 4;
  CHECK_EQ(wire_build_options(&o, buf, sizeof buf), 0); /* too long */
}

static void test_flags(void) {
  char b[16];
  wire_flags_str(TCP_SYN | TCP_ACK, b, sizeof b);
  CHECK(strcmp(b, "S.") == 0);
  wire_flags_str(TCP_FIN | TCP_PSH | TCP_ACK, b, sizeof b);
  CHECK(strcmp(b, "FP.") == 0);
  wire_flags_str(0xff, b, sizeof b);
  CHECK(strcmp(b, "FSRP.UEW") == 0);
  wire_flags_str(0, b, sizeof b);
  CHECK(strcmp(b, "") == 0);
  CHECK_EQ(wire_flags_parse("FSRP.UEW", 8), 0xff);
  CHECK_EQ(wire_flags_parse("R.", 2), TCP_RST | TCP_ACK);
  CHECK_EQ(wire_flags_parse("X", 1), -1);
}

int main(void) {
  test_checksum();
  test_known_packets();
  test_malformed();
  test_options();
  test_flags();
  return check_done("test_wire");
}
