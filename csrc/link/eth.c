/*
 * eth.c — Ethernet II and ARP (RFC 826) in front of a stack.
 *
 * Output: an IPv4 packet goes to its destination if that is on the
 * link (same network under the netmask), else to the gateway.  The next
 * hop's MAC comes from the ARP cache; without one the packet waits in a
 * bounded queue while requests go out every arp_retry, and after
 * arp_tries unanswered requests the packets for that hop are dropped.
 * Answers are trusted for arp_ttl.  The cache is bounded: a new entry
 * pushes out the one that expires first.
 *
 * Input: frames for our MAC or broadcast; IPv4 goes to ip.c (after the
 * link layer's padding is cut to the IPv4 total length), ARP is answered
 * when it asks for our address, and learned from (RFC 826's merge rule:
 * an entry is updated whenever the sender is already known, created when
 * the packet is for us).  Hostile ARP is dropped and counted: a sender
 * hardware address that is multicast or ours, a sender IPv4 address that
 * no host can have.
 */
#include "eth.h"

#include <stdlib.h>
#include <string.h>

#include "../tcp/wire.h"
#include "ip.h"

enum { ARP_FREE, ARP_PENDING, ARP_RESOLVED };
enum { ARP_REQUEST = 1, ARP_REPLY = 2 };
#define ARP_LEN 28

typedef struct arp_entry {
  uint32_t ip;
  uint8_t mac[6];
  uint8_t state;
  uint8_t tries;
  uint64_t when; /* RESOLVED: expiry; PENDING: the next request */
} arp_entry;

typedef struct waiting {
  struct waiting *next;
  uint32_t hop;
  uint32_t len;
  uint8_t data[];
} waiting;

struct sk_eth {
  sk_eth_config cfg;
  sk_stack *stack;
  uint32_t addr;
  sk_output_fn out;
  void *ctx;
  uint64_t now;
  sk_eth_stats stats;
  arp_entry *cache;
  waiting *queue, **queue_tail;
  uint32_t queued;
  uint8_t *frame; /* one frame being built */
};

static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void sk_eth_config_init(sk_eth_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->netmask = 0xffffff00u;
  cfg->mtu = 1500;
  cfg->arp_cache_max = 64;
  cfg->arp_queue_max = 64;
  cfg->arp_ttl = 60000000;  /* Linux's base_reachable_time is 30 s */
  cfg->arp_retry = 1000000; /* and retrans_time 1 s */
  cfg->arp_tries = 3;       /* and mcast_solicit 3 */
}

void sk_eth_random_mac(uint8_t mac[6]) {
  if (sk_random(mac, 6) != SK_OK)
    memcpy(mac, "\x02synak", 6);
  mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, local */
}

sk_eth *sk_eth_new(const sk_eth_config *cfg, sk_output_fn out, void *ctx) {
  sk_eth *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->cfg = *cfg;
  if (e->cfg.arp_cache_max == 0)
    e->cfg.arp_cache_max = 1;
  e->out = out;
  e->ctx = ctx;
  e->cache = calloc(e->cfg.arp_cache_max, sizeof *e->cache);
  e->frame = malloc(SK_ETH_HDR + 65535);
  e->queue_tail = &e->queue;
  if (!e->cache || !e->frame) {
    sk_eth_free(e);
    return NULL;
  }
  return e;
}

void sk_eth_attach(sk_eth *e, sk_stack *s) {
  e->stack = s;
  e->addr = sk_stack_config(s)->addr;
}

void sk_eth_free(sk_eth *e) {
  waiting *w;
  if (!e)
    return;
  while ((w = e->queue) != NULL) {
    e->queue = w->next;
    free(w);
  }
  free(e->cache);
  free(e->frame);
  free(e);
}

const sk_eth_stats *sk_eth_stats_get(const sk_eth *e) { return &e->stats; }

/* ---- sending ---------------------------------------------------------------
 */

static void send_frame(sk_eth *e, const uint8_t dst[6], uint16_t type,
                       const uint8_t *payload, size_t len) {
  size_t n = SK_ETH_HDR + len;
  memcpy(e->frame, dst, 6);
  memcpy(e->frame + 6, e->cfg.mac, 6);
  wr16(e->frame + 12, type);
  memcpy(e->frame + SK_ETH_HDR, payload, len);
  if (n < 60) { /* the minimum frame, FCS aside */
    memset(e->frame + n, 0, 60 - n);
    n = 60;
  }
  e->stats.frames_out++;
  e->out(e->ctx, e->frame, n);
}

static void send_arp(sk_eth *e, int op, const uint8_t dst[6],
                     const uint8_t tha[6], uint32_t tpa) {
  uint8_t a[ARP_LEN];
  wr16(a, 1); /* hardware: Ethernet */
  wr16(a + 2, SK_ETH_TYPE_IPV4);
  a[4] = 6;
  a[5] = 4;
  wr16(a + 6, (uint16_t)op);
  memcpy(a + 8, e->cfg.mac, 6);
  wr32(a + 14, e->addr);
  memcpy(a + 18, tha, 6);
  wr32(a + 24, tpa);
  if (op == ARP_REQUEST)
    e->stats.arp_requests_out++;
  else
    e->stats.arp_replies_out++;
  send_frame(e, dst, SK_ETH_TYPE_ARP, a, sizeof a);
}

static arp_entry *find(sk_eth *e, uint32_t ip) {
  uint32_t i;
  for (i = 0; i < e->cfg.arp_cache_max; i++)
    if (e->cache[i].state != ARP_FREE && e->cache[i].ip == ip)
      return &e->cache[i];
  return NULL;
}

/* A slot for ip: a free one, or the one that expires first. */
static arp_entry *slot(sk_eth *e, uint32_t ip) {
  arp_entry *best = NULL;
  uint32_t i;
  for (i = 0; i < e->cfg.arp_cache_max; i++) {
    arp_entry *a = &e->cache[i];
    if (a->state == ARP_FREE) {
      best = a;
      break;
    }
    if (a->state == ARP_RESOLVED && (!best || a->when < best->when))
      best = a;
  }
  if (!best) /* all pending: the oldest request gives way */
    for (i = 0, best = &e->cache[0]; i < e->cfg.arp_cache_max; i++)
      if (e->cache[i].when < best->when)
        best = &e->cache[i];
  if (best->state != ARP_FREE)
    e->stats.arp_cache_evictions++;
  memset(best, 0, sizeof *best);
  best->ip = ip;
  return best;
}

/* Sends or drops what waits for hop. */
static void flush(sk_eth *e, uint32_t hop, const uint8_t *mac) {
  waiting **pp = &e->queue, *w;
  while ((w = *pp) != NULL) {
    if (w->hop != hop) {
      pp = &w->next;
      continue;
    }
    *pp = w->next;
    if (mac)
      send_frame(e, mac, SK_ETH_TYPE_IPV4, w->data, w->len);
    else
      e->stats.arp_failed++;
    e->queued--;
    free(w);
  }
  e->queue_tail = &e->queue;
  while (*e->queue_tail)
    e->queue_tail = &(*e->queue_tail)->next;
}

void sk_eth_output(void *p, const uint8_t *pkt, size_t len) {
  sk_eth *e = p;
  uint32_t dst, hop;
  arp_entry *a;
  waiting *w;
  if (len < IP_HDR_LEN || len > e->cfg.mtu)
    return; /* the stack never makes these; nothing else calls this */
  dst = rd32(pkt + 16);
  if (dst == 0xffffffffu) {
    send_frame(e, broadcast, SK_ETH_TYPE_IPV4, pkt, len);
    return;
  }
  hop = ((dst ^ e->addr) & e->cfg.netmask) == 0 ? dst : e->cfg.gateway;
  if (hop == 0) { /* off the link and no gateway */
    e->stats.arp_failed++;
    return;
  }
  a = find(e, hop);
  if (a && a->state == ARP_RESOLVED && e->now < a->when) {
    send_frame(e, a->mac, SK_ETH_TYPE_IPV4, pkt, len);
    return;
  }
  if (e->queued >= e->cfg.arp_queue_max || !(w = malloc(sizeof *w + len))) {
    e->stats.arp_queue_drops++;
    return;
  }
  w->next = NULL;
  w->hop = hop;
  w->len = (uint32_t)len;
  memcpy(w->data, pkt, len);
  *e->queue_tail = w;
  e->queue_tail = &w->next;
  e->queued++;
  if (!a || a->state != ARP_PENDING) {
    a = a ? a : slot(e, hop);
    a->state = ARP_PENDING;
    a->tries = 1;
    a->when = e->now + e->cfg.arp_retry;
    send_arp(e, ARP_REQUEST, broadcast, (const uint8_t *)"\0\0\0\0\0\0", hop);
  }
}

void sk_eth_poll(sk_eth *e, uint64_t now) {
  uint32_t i;
  e->now = now;
  for (i = 0; i < e->cfg.arp_cache_max; i++) {
    arp_entry *a = &e->cache[i];
    if (a->state == ARP_RESOLVED && now >= a->when)
      a->state = ARP_FREE; /* stale: asked again when next needed */
    else if (a->state == ARP_PENDING && now >= a->when) {
      if (a->tries >= e->cfg.arp_tries) {
        uint32_t ip = a->ip;
        a->state = ARP_FREE;
        flush(e, ip, NULL);
      } else {
        a->tries++;
        a->when = now + e->cfg.arp_retry;
        send_arp(e, ARP_REQUEST, broadcast, (const uint8_t *)"\0\0\0\0\0\0",
                 a->ip);
      }
    }
  }
}

uint64_t sk_eth_deadline(const sk_eth *e) {
  uint64_t d = SK_NEVER;
  uint32_t i;
  for (i = 0; i < e->cfg.arp_cache_max; i++)
    if (e->cache[i].state == ARP_PENDING && e->cache[i].when < d)
      d = e->cache[i].when;
  return d;
}

/* ---- receiving -------------------------------------------------------------
 */

static int impossible_ip(uint32_t ip) {
  uint8_t net = (uint8_t)(ip >> 24);
  return net == 0 || net == 127 || net >= 224;
}

static void arp_input(sk_eth *e, const uint8_t *a, size_t len) {
  uint32_t spa, tpa;
  int op, for_us;
  arp_entry *entry;
  if (len < ARP_LEN || rd16(a) != 1 || rd16(a + 2) != SK_ETH_TYPE_IPV4 ||
      a[4] != 6 || a[5] != 4) {
    e->stats.arp_bad++;
    return;
  }
  op = rd16(a + 6);
  spa = rd32(a + 14);
  tpa = rd32(a + 24);
  if ((op != ARP_REQUEST && op != ARP_REPLY) || (a[8] & 1) ||
      memcmp(a + 8, e->cfg.mac, 6) == 0 || impossible_ip(spa) ||
      spa == e->addr) {
    e->stats.arp_bad++;
    return;
  }
  if (op == ARP_REQUEST)
    e->stats.arp_requests_in++;
  else
    e->stats.arp_replies_in++;
  for_us = tpa == e->addr;
  entry = find(e, spa);
  if (entry || for_us) { /* RFC 826: merge, or add when for us */
    int was_pending = entry && entry->state == ARP_PENDING;
    if (!entry)
      entry = slot(e, spa);
    memcpy(entry->mac, a + 8, 6);
    entry->state = ARP_RESOLVED;
    entry->when = e->now + e->cfg.arp_ttl;
    if (was_pending)
      flush(e, spa, entry->mac);
  }
  if (for_us && op == ARP_REQUEST)
    send_arp(e, ARP_REPLY, a + 8, a + 8, spa);
}

void sk_eth_input(sk_eth *e, uint64_t now, const uint8_t *f, size_t len) {
  const uint8_t *p = f + SK_ETH_HDR;
  size_t n;
  e->now = now;
  e->stats.frames_in++;
  if (len < SK_ETH_HDR) {
    e->stats.frames_bad++;
    return;
  }
  if (memcmp(f, e->cfg.mac, 6) != 0 && memcmp(f, broadcast, 6) != 0) {
    e->stats.frames_not_for_us++;
    return;
  }
  n = len - SK_ETH_HDR;
  switch (rd16(f + 12)) {
  case SK_ETH_TYPE_ARP:
    arp_input(e, p, n);
    break;
  case SK_ETH_TYPE_IPV4:
    /* frames shorter than 60 octets are padded: the IPv4 total length
     * says where the packet ends */
    if (n >= IP_HDR_LEN && rd16(p + 2) >= IP_HDR_LEN && rd16(p + 2) < n)
      n = rd16(p + 2);
    if (e->stack)
      sk_ip_input(e->stack, now, p, n, sk_eth_output, e);
    break;
  default:
    e->stats.frames_bad++;
    break;
  }
}
