/*
 * test_syncookie.c — SYN cookies: the pure functions (round trip, age,
 * MSS table, TSval bits), then a stack: 10^6 forged ACKs accept nothing,
 * a SYN flood leaves memory flat and the SYN queue at its cap, and a
 * legitimate client still connects through the flood.
 */
#include <stdlib.h>
#include <string.h>

#include "../synack.h"
#include "../tcp/syncookie.h"
#include "../tcp/wire.h"
#include "check.h"

#define SERVER 0x0a000002u
#define CLIENT 0x0a000001u

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) { /* xorshift64*: reproducible */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static void test_pure(void) {
  sipkey k = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}, other = k;
  cookie_tuple t = {CLIENT, SERVER, 40000, 80}, t2 = t;
  uint32_t idx, i, c, count, ts;
  int ws, sack;
  other.k1 ^= 1;
  t2.rport++;
  CHECK_EQ(cookie_mss_index(1460), 3);
  CHECK_EQ(cookie_mss_index(9000), 3);
  CHECK_EQ(cookie_mss_index(1459), 2);
  CHECK_EQ(cookie_mss_index(1300), 1);
  CHECK_EQ(cookie_mss_index(100), 0); /* below the table: its smallest */
  for (i = 0; i < COOKIE_NMSS; i++) {
    for (count = 0; count < 600; count += 7) { /* across the 8-bit wrap */
      uint32_t isn = rnd();
      c = cookie_make(&k, &t, isn, count, i);
      idx = 99;
      CHECK_EQ(cookie_check(&k, &t, isn, c, count, &idx), COOKIE_OK);
      CHECK_EQ(idx, i);
      CHECK_EQ(cookie_check(&k, &t, isn, c, count + 1, &idx), COOKIE_OK);
      CHECK_EQ(cookie_check(&k, &t, isn, c, count + 2, &idx), COOKIE_EXPIRED);
      CHECK_EQ(cookie_check(&k, &t, isn, c, count + 255, &idx), COOKIE_EXPIRED);
      /* 256 periods later the top byte says "now" again, but H2 of the
       * full counter differs */
      CHECK_EQ(cookie_check(&k, &t, isn, c, count + 256, &idx),
               COOKIE_MISMATCH);
      CHECK_EQ(cookie_check(&k, &t, isn + 1, c, count, &idx), COOKIE_MISMATCH);
      CHECK_EQ(cookie_check(&k, &t2, isn, c, count, &idx), COOKIE_MISMATCH);
      CHECK_EQ(cookie_check(&other, &t, isn, c, count, &idx), COOKIE_MISMATCH);
    }
  }
  /* 10^6 random (cookie, peer ISN) pairs for one 4-tuple: none valid */
  for (i = 0, c = 0; i < 1000000; i++)
    c += cookie_check(&k, &t, rnd(), rnd(), 1000, &idx) == COOKIE_OK;
  CHECK_EQ(c, 0);
  /* TSval bits: window scale, none, SACK; never ahead of the clock */
  for (i = 0; i < 1000; i++) {
    uint32_t now = rnd();
    int w = (int)(i % 16) - 1; /* -1 .. 14 */
    ts = cookie_ts_encode(now, w, (int)(i & 1));
    CHECK((int32_t)(now - ts) >= 0 && now - ts < 64);
    CHECK(cookie_ts_decode(ts, &ws, &sack));
    CHECK_EQ(ws, w);
    CHECK_EQ(sack, (int)(i & 1));
  }
  CHECK(!cookie_ts_decode(0x2f, &ws, &sack)); /* ECN: never sent */
}

/* ---- through a stack ----------------------------------------------------- */

static uint8_t last[2048];
static size_t last_len, sent;

static void out(void *ctx, const uint8_t *pkt, size_t len) {
  (void)ctx;
  sent++;
  if (len <= sizeof last) {
    memcpy(last, pkt, len);
    last_len = len;
  }
}

static size_t build(uint8_t *buf, uint32_t saddr, uint16_t sport, uint8_t flags,
                    uint32_t seq, uint32_t ack, const tcp_opts *o) {
  tcp_seg s;
  memset(&s, 0, sizeof s);
  s.saddr = saddr;
  s.daddr = SERVER;
  s.sport = sport;
  s.dport = 80;
  s.flags = flags;
  s.seq = seq;
  s.ack = ack;
  s.win = 65535;
  s.ttl = 64;
  if (o)
    s.opts = *o;
  return wire_build(&s, 0, buf, 2048);
}

static sk_stack *server(int cookies, uint32_t max_syn, sk_listener **l) {
  sk_config cfg;
  sk_listen_opts lo;
  sk_stack *s;
  int err;
  sk_config_init(&cfg);
  cfg.addr = SERVER;
  memcpy(cfg.secret, "0123456789abcdef", 16);
  s = sk_stack_new(&cfg, out, NULL);
  memset(&lo, 0, sizeof lo);
  lo.syncookies = cookies;
  lo.max_syn_backlog = max_syn;
  *l = sk_listen(s, 80, &lo, &err);
  return s;
}

/* Random ACKs, as a blind attacker would send them, to a listener that
 * validates every ACK: not one connection, a RST for each. */
static void test_forged_acks(void) {
  sk_listener *l;
  sk_stack *s = server(SK_SYNCOOKIES_ALWAYS, 0, &l);
  const sk_stats *st;
  uint8_t pkt[64];
  uint64_t now = 5000000000ull;
  uint32_t i;
  size_t n;
  for (i = 0; i < 1000000; i++) {
    /* a few sources and ports, as a flood from a botnet would use */
    n = build(pkt, 0x0b000000u | (rnd() & 0xff), (uint16_t)(1024 + rnd() % 64),
              TCP_ACK, rnd(), rnd(), NULL);
    sk_stack_input(s, now + i, pkt, n);
  }
  st = sk_stack_stats(s);
  CHECK_EQ(st->syncookies_valid, 0);
  CHECK_EQ(st->syncookies_invalid, 1000000);
  CHECK_EQ(st->conns_opened, 0);
  CHECK_EQ(st->rst_sent, 1000000); /* each answered as RFC 9293 §3.10.7.2 */
  CHECK(sk_listener_accept(l) == NULL);
  sk_stack_free(s);
}

/* The client's side of a handshake with options; returns the conn. */
static sk_conn *handshake(sk_stack *s, sk_listener *l, uint64_t now,
                          uint16_t sport, int with_ts, tcp_seg *synack) {
  uint8_t pkt[128];
  tcp_opts o;
  size_t n;
  memset(&o, 0, sizeof o);
  o.has = HAS_MSS | HAS_WSCALE | HAS_SACK_PERM;
  o.mss = 1400;
  o.wscale = 7;
  if (with_ts) {
    o.has |= HAS_TS;
    o.ts_val = 777;
  }
  n = build(pkt, CLIENT, sport, TCP_SYN, 1000, 0, &o);
  last_len = 0;
  sk_stack_input(s, now, pkt, n);
  if (!last_len || wire_parse(last, last_len, 1, synack) != WIRE_OK ||
      synack->flags != (TCP_SYN | TCP_ACK))
    return NULL;
  memset(&o, 0, sizeof o);
  if (synack->opts.has & HAS_TS) {
    o.has = HAS_TS;
    o.ts_val = 778;
    o.ts_ecr = synack->opts.ts_val;
  }
  n = build(pkt, CLIENT, sport, TCP_ACK, 1001, synack->seq + 1, &o);
  sk_stack_input(s, now + 1000, pkt, n);
  return sk_listener_accept(l);
}

/* A flood of SYNs from random sources: the SYN queue stops at its cap,
 * memory stops growing, and a real client gets through. */
static void test_flood(void) {
  sk_listener *l;
  sk_stack *s = server(SK_SYNCOOKIES_AUTO, 64, &l);
  const sk_stats *st;
  sk_info info;
  uint8_t pkt[64];
  uint64_t now = 1000000, mem_early = 0;
  uint32_t i, cookie;
  tcp_seg sa;
  sk_conn *c;
  size_t n;
  for (i = 0; i < 200000; i++) {
    n = build(pkt, 0x0b000000u | (rnd() & 0xffffff), (uint16_t)rnd(), TCP_SYN,
              rnd(), 0, NULL);
    sk_stack_input(s, now + i, pkt, n);
    if (i == 1000)
      mem_early = sk_stack_stats(s)->memory;
  }
  st = sk_stack_stats(s);
  sk_listener_info(l, &info);
  CHECK_EQ(info.syn_queue, 64);
  CHECK_EQ(st->memory, mem_early); /* flat from the 1000th SYN on */
  CHECK_EQ(st->syncookies_sent, 200000 - 64);
  CHECK_EQ(st->listen_overflows, 0);
  /* a legitimate client, with timestamps: its options survive */
  c = handshake(s, l, now + 300000, 5555, 1, &sa);
  CHECK(c != NULL);
  if (c) {
    sk_conn_info(c, now + 300000, &info);
    CHECK_EQ(info.state, SK_ESTABLISHED);
    CHECK_EQ(info.snd_wscale, 7);
    CHECK_EQ(info.sack, 1);
    CHECK_EQ(info.timestamps, 1);
    CHECK_EQ(info.mss, 1300 - 12); /* the table's 1300 <= 1400, less TS */
    CHECK_EQ(info.irs, 1000);
    CHECK_EQ(info.iss, sa.seq);
    sk_conn_release(c, now + 300000);
  }
  /* without timestamps: a cookie, but no window scale and no SACK */
  c = handshake(s, l, now + 400000, 5556, 0, &sa);
  CHECK(c != NULL);
  CHECK(!(sa.opts.has & (HAS_WSCALE | HAS_SACK_PERM | HAS_TS)));
  if (c) {
    sk_conn_info(c, now + 400000, &info);
    CHECK_EQ(info.snd_wscale, -1);
    CHECK_EQ(info.sack, 0);
    CHECK_EQ(info.mss, 1300);
    sk_conn_release(c, now + 400000);
  }
  CHECK_EQ(st->syncookies_valid, 2);
  /* a cookie from counter 0 returning in counter 2 is refused, counted
   * as expired, and answered with a RST */
  n = build(pkt, CLIENT, 5557, TCP_SYN, 50, 0, NULL);
  sk_stack_input(s, now + 500000, pkt, n);
  CHECK(wire_parse(last, last_len, 1, &sa) == WIRE_OK);
  cookie = sa.seq;
  n = build(pkt, CLIENT, 5558, TCP_SYN, 50, 0, NULL);
  sk_stack_input(s, now + 500000, pkt, n);
  CHECK(wire_parse(last, last_len, 1, &sa) == WIRE_OK);
  /* 5557's ACK in the next period: accepted */
  n = build(pkt, CLIENT, 5557, TCP_ACK, 51, cookie + 1, NULL);
  sk_stack_input(s, 1ull * COOKIE_PERIOD + 1, pkt, n);
  CHECK_EQ(st->syncookies_valid, 3);
  /* 5558's in the period after that: expired */
  n = build(pkt, CLIENT, 5558, TCP_ACK, 51, sa.seq + 1, NULL);
  sent = 0;
  sk_stack_input(s, 2ull * COOKIE_PERIOD + 1, pkt, n);
  CHECK_EQ(st->drops[SK_DROP_COOKIE_EXPIRED], 1);
  CHECK_EQ(sent, 1);
  CHECK(wire_parse(last, last_len, 1, &sa) == WIRE_OK && sa.flags == TCP_RST);
  sk_stack_free(s);
}

int main(void) {
  test_pure();
  test_forged_acks();
  test_flood();
  return check_done("test_syncookie");
}
