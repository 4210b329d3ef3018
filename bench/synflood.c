/*
 * bench/synflood.c — one listener on one core, driven through
 * sk_stack_input directly (no simulator in the way):
 *
 *   1. normal handshakes: SYN in, SYN-ACK out, ACK in, accept, abort;
 *      connections per second with state kept for each SYN;
 *   2. a SYN flood in cookie mode ("auto", the SYN queue already full):
 *      SYNs absorbed per second, with the half-open count and the
 *      stack's memory before and after;
 *   3. handshakes completed through cookies ("always"): connections per
 *      second when every ACK is validated.
 *
 *   bench/synflood [N]      (default 1000000 SYNs; a tenth as handshakes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../csrc/synack.h"
#include "../csrc/tcp/wire.h"

#define SERVER 0x0a000002u

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

static tcp_seg reply; /* the last segment the stack sent */
static uint8_t reply_pkt[256];
static uint64_t sent;

static void out(void *ctx, const uint8_t *pkt, size_t len) {
  (void)ctx;
  sent++;
  if (len <= sizeof reply_pkt) {
    memcpy(reply_pkt, pkt, len);
    wire_parse(reply_pkt, len, 0, &reply);
  }
}

static size_t build(uint8_t *buf, uint32_t saddr, uint16_t sport, uint8_t flags,
                    uint32_t seq, uint32_t ack, int ts, uint32_t tsecr) {
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
  if (flags & TCP_SYN) { /* what Linux sends */
    s.opts.has = HAS_MSS | HAS_SACK_PERM | HAS_WSCALE;
    s.opts.mss = 1460;
    s.opts.wscale = 7;
  }
  if (ts) {
    s.opts.has |= HAS_TS;
    s.opts.ts_val = 12345;
    s.opts.ts_ecr = tsecr;
  }
  return wire_build(&s, 0, buf, 128);
}

static sk_stack *server(int cookies, sk_listener **l) {
  sk_config cfg;
  sk_listen_opts lo;
  int err;
  sk_stack *s;
  sk_config_init(&cfg);
  cfg.addr = SERVER;
  memcpy(cfg.secret, "bench-synflood-k", 16);
  cfg.backlog = 1u << 20;
  s = sk_stack_new(&cfg, out, NULL);
  memset(&lo, 0, sizeof lo);
  lo.syncookies = cookies;
  *l = sk_listen(s, 80, &lo, &err);
  return s;
}

/* Handshakes one after another; returns connections per second. */
static double handshakes(int cookies, uint32_t n) {
  sk_listener *l;
  sk_stack *s = server(cookies, &l);
  uint8_t pkt[128];
  uint64_t now = 1000000;
  uint32_t i, ok = 0;
  double t0 = wall(), dt;
  for (i = 0; i < n; i++, now += 10) {
    uint32_t src = 0x0b000000u | (i >> 16), isn = rnd();
    uint16_t sport = (uint16_t)(1024 + (i & 0xffff) % 60000);
    sk_conn *c;
    size_t len = build(pkt, src, sport, TCP_SYN, isn, 0, 1, 0);
    sk_stack_input(s, now, pkt, len);
    len = build(pkt, src, sport, TCP_ACK, isn + 1, reply.seq + 1, 1,
                reply.opts.ts_val);
    sk_stack_input(s, now + 5, pkt, len);
    if ((c = sk_listener_accept(l)) != NULL) {
      ok++;
      sk_conn_abort(c, now + 5); /* RST, and the memory back */
      sk_conn_release(c, now + 5);
    }
    sk_stack_dispatch(s);
  }
  dt = wall() - t0;
  if (ok != n)
    printf("  (only %u of %u handshakes completed)\n", ok, n);
  sk_stack_free(s);
  return n / dt;
}

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000u;
  uint32_t i, nh = n / 10;
  sk_listener *l;
  sk_stack *s;
  sk_info info;
  uint8_t *pkts = malloc((size_t)n * 64);
  size_t *lens = malloc((size_t)n * sizeof *lens);
  uint64_t mem0, now = 1000000;
  double t0, dt, normal, cookie_hs;

  normal = handshakes(SK_SYNCOOKIES_NEVER, nh);
  cookie_hs = handshakes(SK_SYNCOOKIES_ALWAYS, nh);

  /* the flood: packets built beforehand, so only the stack is timed */
  for (i = 0; i < n; i++)
    lens[i] = build(pkts + (size_t)i * 64, 0x0c000000u | (rnd() & 0xffffff),
                    (uint16_t)rnd(), TCP_SYN, rnd(), 0, i & 1, 0);
  s = server(SK_SYNCOOKIES_AUTO, &l);
  for (i = 0; i < 256; i++) /* fill the SYN queue first */
    sk_stack_input(s, now, pkts + (size_t)i * 64, lens[i]);
  mem0 = sk_stack_stats(s)->memory;
  sent = 0;
  t0 = wall();
  for (i = 256; i < n; i++)
    sk_stack_input(s, now + i, pkts + (size_t)i * 64, lens[i]);
  dt = wall() - t0;
  sk_listener_info(l, &info);
  printf("synack SYN flood, one listener, one core (%u SYNs, half with "
         "timestamps)\n",
         n);
  printf("  %-44s %12.0f /s\n", "normal handshakes (state per SYN)", normal);
  printf("  %-44s %12.0f /s\n", "handshakes through cookies", cookie_hs);
  printf("  %-44s %12.0f /s  (%.0f ns each)\n", "SYNs absorbed in cookie mode",
         (n - 256) / dt, dt * 1e9 / (n - 256));
  printf("  %-44s %12llu\n", "SYN-ACK cookies sent",
         (unsigned long long)sk_stack_stats(s)->syncookies_sent);
  printf("  %-44s %12u (max_syn_backlog %u)\n", "half-open connections after",
         info.syn_queue, info.max_syn_backlog);
  printf("  %-44s %12llu -> %llu bytes\n", "stack memory before -> after flood",
         (unsigned long long)mem0,
         (unsigned long long)sk_stack_stats(s)->memory);
  sk_stack_free(s);
  free(pkts);
  free(lens);
  return 0;
}
