/*
 * test_eth.c — the Ethernet and ARP layer: answering ARP for our
 * address, resolving a next hop with requests, retries and a bounded
 * queue, the gateway for off-link destinations, a bounded cache, hostile
 * ARP, and IPv4 frames padded to the minimum size.
 */
#include <stdlib.h>
#include <string.h>

#include "../link/eth.h"
#include "../synack.h"
#include "../tcp/wire.h"
#include "check.h"

#define US 0xc0000202u   /* 192.0.2.2 */
#define PEER 0xc0000201u /* 192.0.2.1 */
#define GW 0xc00002feu   /* 192.0.2.254 */
#define FAR 0xc6336401u  /* 198.51.100.1 */

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t gw_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};

static uint8_t frames[64][1600];
static size_t lens[64], nframes;

static void out(void *ctx, const uint8_t *f, size_t len) {
  (void)ctx;
  if (nframes < 64 && len <= sizeof frames[0]) {
    memcpy(frames[nframes], f, len);
    lens[nframes++] = len;
  }
}

static size_t arp(uint8_t *f, const uint8_t *dst, int op, const uint8_t *sha,
                  uint32_t spa, const uint8_t *tha, uint32_t tpa) {
  memcpy(f, dst, 6);
  memcpy(f + 6, sha, 6);
  wr16(f + 12, SK_ETH_TYPE_ARP);
  wr16(f + 14, 1);
  wr16(f + 16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  wr16(f + 20, (uint16_t)op);
  memcpy(f + 22, sha, 6);
  wr32(f + 28, spa);
  memcpy(f + 32, tha, 6);
  wr32(f + 38, tpa);
  memset(f + 42, 0, 18);
  return 60;
}

/* A TCP SYN from `from` to us on port 80, in a frame padded to 60. */
static size_t syn_frame(uint8_t *f, uint32_t from, const uint8_t *src) {
  tcp_seg s;
  size_t n;
  memset(&s, 0, sizeof s);
  s.saddr = from;
  s.daddr = US;
  s.sport = 4000;
  s.dport = 80;
  s.flags = TCP_SYN;
  s.seq = 1;
  s.win = 65535;
  s.ttl = 64;
  memcpy(f, our_mac, 6);
  memcpy(f + 6, src, 6);
  wr16(f + 12, SK_ETH_TYPE_IPV4);
  n = wire_build(&s, 0, f + 14, 1500);
  memset(f + 14 + n, 0, 60 - 14 - n); /* 40 octets of IPv4: 6 of padding */
  return 60;
}

static sk_stack *setup(sk_eth **e, sk_eth_config *ec) {
  sk_config cfg;
  sk_stack *s;
  sk_config_init(&cfg);
  cfg.addr = US;
  memcpy(cfg.secret, "eth-test-secret!", 16);
  memcpy(ec->mac, our_mac, 6);
  ec->gateway = GW;
  *e = sk_eth_new(ec, out, NULL);
  s = sk_stack_new(&cfg, sk_eth_output, *e);
  sk_eth_attach(*e, s);
  return s;
}

static void test_arp_and_padding(void) {
  sk_eth_config ec;
  sk_eth *e;
  sk_stack *s;
  sk_listener *l;
  uint8_t f[1600];
  tcp_seg seg;
  int err;
  sk_eth_config_init(&ec);
  s = setup(&e, &ec);
  l = sk_listen(s, 80, NULL, &err);
  /* a request for our address gets a reply, unicast to the asker */
  nframes = 0;
  sk_eth_input(e, 1000, f,
               arp(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 1, peer_mac,
                   PEER, (const uint8_t *)"\0\0\0\0\0\0", US));
  CHECK_EQ(nframes, 1);
  CHECK(memcmp(frames[0], peer_mac, 6) == 0);
  CHECK_EQ(rd16(frames[0] + 20), 2);
  CHECK(memcmp(frames[0] + 22, our_mac, 6) == 0);
  CHECK_EQ(rd32(frames[0] + 28), US);
  /* a padded SYN from the now known peer is answered at once */
  nframes = 0;
  sk_eth_input(e, 2000, f, syn_frame(f, PEER, peer_mac));
  CHECK_EQ(nframes, 1);
  CHECK(memcmp(frames[0], peer_mac, 6) == 0);
  CHECK(wire_parse(frames[0] + 14, rd16(frames[0] + 16), 1, &seg) == WIRE_OK &&
        seg.flags == (TCP_SYN | TCP_ACK));
  CHECK_EQ(sk_stack_stats(s)->malformed, 0);
  /* hostile ARP: multicast sender, our own MAC, impossible sender IP */
  sk_eth_input(
      e, 3000, f,
      arp(f, our_mac, 1, (const uint8_t *)"\x01\0\0\0\0\1", PEER, our_mac, US));
  sk_eth_input(e, 3000, f, arp(f, our_mac, 1, our_mac, PEER, our_mac, US));
  sk_eth_input(e, 3000, f,
               arp(f, our_mac, 1, peer_mac, 0x7f000001u, our_mac, US));
  CHECK_EQ(sk_eth_stats_get(e)->arp_bad, 3);
  /* a frame for another MAC is not ours */
  memcpy(f, gw_mac, 6);
  sk_eth_input(e, 3000, f, 60);
  CHECK_EQ(sk_eth_stats_get(e)->frames_not_for_us, 1);
  sk_listener_close(l, 4000);
  sk_stack_free(s);
  sk_eth_free(e);
}

static void test_resolution(void) {
  sk_eth_config ec;
  sk_eth *e;
  sk_stack *s;
  sk_conn *c;
  uint8_t f[1600];
  int err;
  uint64_t now = 1000000;
  sk_eth_config_init(&ec);
  ec.arp_queue_max = 2;
  s = setup(&e, &ec);
  sk_eth_poll(e, now);
  /* an off-link destination goes through the gateway: ARP for it first */
  nframes = 0;
  c = sk_connect(s, now, FAR, 80, NULL, &err);
  CHECK(c != NULL);
  CHECK_EQ(nframes, 1);
  CHECK_EQ(rd16(frames[0] + 12), SK_ETH_TYPE_ARP);
  CHECK_EQ(rd32(frames[0] + 38), GW);
  CHECK_EQ(sk_eth_deadline(e), now + ec.arp_retry);
  /* more packets for the same hop wait, up to the cap */
  sk_connect(s, now, FAR, 81, NULL, &err);
  sk_connect(s, now, FAR, 82, NULL, &err);
  CHECK_EQ(sk_eth_stats_get(e)->arp_queue_drops, 1);
  CHECK_EQ(nframes, 1); /* one request for the hop, not one per packet */
  /* the answer releases what waited, to the gateway's MAC */
  nframes = 0;
  sk_eth_input(e, now + 100, f, arp(f, our_mac, 2, gw_mac, GW, our_mac, US));
  CHECK_EQ(nframes, 2);
  CHECK(memcmp(frames[0], gw_mac, 6) == 0 && memcmp(frames[1], gw_mac, 6) == 0);
  CHECK_EQ(rd32(frames[0] + 14 + 16), FAR);
  /* an on-link host that never answers: three requests, then a drop */
  nframes = 0;
  sk_connect(s, now + 200, PEER, 80, NULL, &err);
  CHECK_EQ(nframes, 1);
  sk_eth_poll(e, now + 200 + ec.arp_retry);
  sk_eth_poll(e, now + 200 + 2 * ec.arp_retry);
  CHECK_EQ(nframes, 3);
  CHECK_EQ(sk_eth_stats_get(e)->arp_requests_out, 4);
  sk_eth_poll(e, now + 200 + 3 * ec.arp_retry);
  CHECK_EQ(nframes, 3);
  CHECK_EQ(sk_eth_stats_get(e)->arp_failed, 1);
  CHECK_EQ(sk_eth_deadline(e), SK_NEVER);
  sk_stack_free(s);
  sk_eth_free(e);
}

static void test_cache_bound(void) {
  sk_eth_config ec;
  sk_eth *e;
  sk_stack *s;
  uint8_t f[1600], mac[6] = {0x02, 9, 9, 9, 9, 0};
  uint32_t i;
  sk_eth_config_init(&ec);
  ec.arp_cache_max = 8;
  s = setup(&e, &ec);
  for (i = 1; i <= 100; i++) { /* 100 hosts ask for us */
    mac[5] = (uint8_t)i;
    sk_eth_input(e, 1000 + i, f,
                 arp(f, our_mac, 1, mac, 0xc0000a00u + i, our_mac, US));
  }
  CHECK_EQ(sk_eth_stats_get(e)->arp_requests_in, 100);
  CHECK_EQ(sk_eth_stats_get(e)->arp_cache_evictions, 92);
  sk_stack_free(s);
  sk_eth_free(e);
}

int main(void) {
  test_arp_and_padding();
  test_resolution();
  test_cache_bound();
  return check_done("test_eth");
}
