/*
 * fuzz_wire.c — libFuzzer target for the packet parser.  Any bytes at
 * all: wire_parse must not read outside them, and what it accepts must
 * build back into a packet that parses to the same fields with correct
 * checksums.  The option parser gets the same bytes on their own.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/wire.h"

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

static uint8_t out[65536 + 128];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tcp_seg s, back;
  tcp_opts o, o2;
  uint8_t obuf[64];
  size_t n;
  char flags[16];
  wire_parse_options(data, size < TCP_OPT_MAX ? size : TCP_OPT_MAX, &o);
  n = wire_build_options(&o, obuf, sizeof obuf);
  if (n) { /* what the option parser kept builds and parses back */
    wire_parse_options(obuf, n, &o2);
    REQUIRE((o2.has & 0x1f) == (o.has & 0x1f));
    REQUIRE(!(o.has & HAS_MSS) || o2.mss == o.mss);
    REQUIRE(!(o.has & HAS_TS) ||
            (o2.ts_val == o.ts_val && o2.ts_ecr == o.ts_ecr));
  }
  if (size && wire_flags_parse(flags, wire_flags_str(data[0], flags,
                                                     sizeof flags)) != data[0])
    abort();
  if (wire_parse(data, size, 0, &s) != WIRE_OK)
    return 0;
  /* every pointer lies inside the input */
  REQUIRE(s.hdr_len >= TCP_HDR_LEN && s.hdr_len <= 60);
  REQUIRE(s.data >= data && s.data + s.len == data + size);
  REQUIRE(s.raw_opts >= data && s.raw_opts + s.raw_opts_len == s.data);
  REQUIRE(s.opts.nsack <= TCP_MAX_SACK);
  n = wire_build(&s, 0, out, sizeof out);
  REQUIRE(n == size - (size_t)((data[0] & 0x0f) * 4 - IP_HDR_LEN));
  REQUIRE(wire_parse(out, n, 1, &back) == WIRE_OK);
  REQUIRE(back.saddr == s.saddr && back.daddr == s.daddr);
  REQUIRE(back.sport == s.sport && back.dport == s.dport);
  REQUIRE(back.seq == s.seq && back.ack == s.ack && back.flags == s.flags);
  REQUIRE(back.win == s.win && back.urp == s.urp && back.len == s.len);
  REQUIRE(back.hdr_len == s.hdr_len);
  REQUIRE(memcmp(back.data, s.data, s.len) == 0);
  REQUIRE(back.opts.has == s.opts.has);
  return 0;
}
