/*
 * eth.h — an Ethernet interface for a stack: Ethernet II framing, ARP
 * (RFC 826) with a bounded cache and a bounded queue of packets waiting
 * for an address, and the IPv4 host of ip.h behind it.  Sans-IO like the
 * core: frames come in through sk_eth_input, go out through a callback,
 * and time is passed in.
 */
#ifndef SK_LINK_ETH_H
#define SK_LINK_ETH_H

#include "../synack.h"

#define SK_ETH_HDR 14
#define SK_ETH_TYPE_IPV4 0x0800
#define SK_ETH_TYPE_ARP 0x0806

/* Counters of the link layer, added to a live stack's stats(). */
#define SK_ETH_COUNTERS(X)                                                     \
  X(frames_in, "Ethernet frames received")                                     \
  X(frames_out, "Ethernet frames sent")                                        \
  X(frames_not_for_us, "frames dropped: for another MAC address")              \
  X(frames_bad, "frames dropped: too short or of an unknown type")             \
  X(arp_requests_in, "ARP requests received")                                  \
  X(arp_requests_out, "ARP requests sent")                                     \
  X(arp_replies_in, "ARP replies received")                                    \
  X(arp_replies_out, "ARP replies sent")                                       \
  X(arp_bad, "ARP packets dropped: malformed or from an impossible address")   \
  X(arp_queue_drops, "packets dropped: no room to wait for an ARP answer")     \
  X(arp_failed, "packets dropped: their next hop never answered ARP")          \
  X(arp_cache_evictions, "ARP entries pushed out of the full cache")

typedef struct sk_eth_stats {
#define SK_X_(n, d) uint64_t n;
  SK_ETH_COUNTERS(SK_X_)
#undef SK_X_
} sk_eth_stats;

typedef struct sk_eth_config {
  uint8_t mac[6];
  uint32_t netmask;       /* host order; the stack's address is the IPv4 one */
  uint32_t gateway;       /* 0: none, off-link destinations are unreachable */
  uint32_t mtu;           /* IPv4 packets up to this size */
  uint32_t arp_cache_max; /* entries kept at most */
  uint32_t arp_queue_max; /* packets waiting for ARP at most */
  uint64_t arp_ttl;       /* µs an answer is trusted */
  uint64_t arp_retry;     /* µs between requests */
  uint32_t arp_tries;     /* requests before the packets waiting are dropped */
} sk_eth_config;

typedef struct sk_eth sk_eth;

void sk_eth_config_init(sk_eth_config *cfg);
/* Frames leave through `out`.  The stack is created with sk_eth_output as
 * its output and the sk_eth as its context (see sk_eth_attach). */
sk_eth *sk_eth_new(const sk_eth_config *cfg, sk_output_fn out, void *ctx);
void sk_eth_attach(sk_eth *e, sk_stack *s); /* the stack behind it */
void sk_eth_free(sk_eth *e);
/* A frame from the wire. */
void sk_eth_input(sk_eth *e, uint64_t now, const uint8_t *frame, size_t len);
/* The stack's output: an IPv4 packet to send (uses the time of the last
 * input or poll). */
void sk_eth_output(void *e, const uint8_t *pkt, size_t len);
void sk_eth_poll(sk_eth *e, uint64_t now); /* ARP retries and expiry */
uint64_t sk_eth_deadline(const sk_eth *e);
const sk_eth_stats *sk_eth_stats_get(const sk_eth *e);
/* A locally administered unicast MAC from 6 random bytes. */
void sk_eth_random_mac(uint8_t mac[6]);

#endif
