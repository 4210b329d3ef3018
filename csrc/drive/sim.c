/*
 * sim.c — the simulated network: virtual time, a switch, impairments, and
 * hosts that are either synack stacks or scripted peers (packet queues a
 * script reads and writes, packetdrill-style).
 *
 * Determinism: events are ordered by (time, sequence number), every random
 * choice comes from one PRNG seeded by the user, and stacks get secrets
 * derived from the seed; the same seed yields the same trace, byte for
 * byte.  Time never comes from a clock: it jumps from event to event.
 */
#include <stdlib.h>
#include <string.h>

#include "../link/ip.h"
#include "../synack.h"

typedef struct pkt {
  uint64_t t, seq;
  uint32_t to;
  uint32_t len;
  uint8_t data[];
} pkt;

typedef struct host {
  struct sk_sim *sim;
  uint32_t addr;
  sk_stack *st; /* NULL for a scripted peer */
  /* a peer's queue: a ring of packets */
  pkt **q;
  size_t qhead, qlen, qsize, qcap;
  uint64_t qdropped;
} host;

typedef struct rule {
  uint32_t from, to;
  sk_link link;
} rule;

/* A direction's rate limiter: when its wire is free again. */
typedef struct wire {
  uint32_t from, to;
  uint64_t busy_until;
} wire;

struct sk_sim {
  uint64_t now, seq, seed;
  uint64_t rng[4];
  sk_link defaults;
  host **hosts;
  size_t nhosts, hosts_size;
  rule *rules;
  size_t nrules;
  wire *wires;
  size_t nwires;
  uint8_t scratch[65536]; /* a corrupted copy */
  pkt **heap;
  size_t hlen, hsize;
  sk_sim_tap_fn tap;
  void *tap_ctx;
};

/* ---- randomness: splitmix64 seeds xoshiro256** --------------------------- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(sk_sim *sim) {
  uint64_t *s = sim->rng, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

static double rng_unit(sk_sim *sim) { /* uniform in [0, 1) */
  return (double)(rng_next(sim) >> 11) * (1.0 / 9007199254740992.0);
}

void sk_sim_secret(const sk_sim *sim, uint32_t addr, uint8_t out[16]) {
  uint64_t x = sim->seed ^ ((uint64_t)addr * 0xd6e8feb86659fd93ull), a, b;
  int i;
  a = splitmix64(&x);
  b = splitmix64(&x);
  for (i = 0; i < 8; i++) {
    out[i] = (uint8_t)(a >> (8 * i));
    out[8 + i] = (uint8_t)(b >> (8 * i));
  }
}

/* ---- the event heap: packets in flight, by (time, seq) ------------------- */

static int pkt_before(const pkt *a, const pkt *b) {
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(sk_sim *sim, pkt *p) {
  size_t i;
  if (sim->hlen == sim->hsize) {
    size_t n = sim->hsize ? sim->hsize * 2 : 64;
    pkt **h = realloc(sim->heap, n * sizeof *h);
    if (!h)
      return 0;
    sim->heap = h;
    sim->hsize = n;
  }
  i = sim->hlen++;
  while (i > 0 && pkt_before(p, sim->heap[(i - 1) / 2])) {
    sim->heap[i] = sim->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  sim->heap[i] = p;
  return 1;
}

static pkt *heap_pop(sk_sim *sim) {
  pkt *top = sim->heap[0], *last = sim->heap[--sim->hlen];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, m = l;
    if (l >= sim->hlen)
      break;
    if (l + 1 < sim->hlen && pkt_before(sim->heap[l + 1], sim->heap[l]))
      m = l + 1;
    if (!pkt_before(sim->heap[m], last))
      break;
    sim->heap[i] = sim->heap[m];
    i = m;
  }
  if (sim->hlen)
    sim->heap[i] = last;
  return top;
}

/* ---- hosts and links ----------------------------------------------------- */

static host *find_host(const sk_sim *sim, uint32_t addr) {
  size_t i;
  for (i = 0; i < sim->nhosts; i++)
    if (sim->hosts[i]->addr == addr)
      return sim->hosts[i];
  return NULL;
}

int sk_sim_has_host(const sk_sim *sim, uint32_t addr) {
  return find_host(sim, addr) != NULL;
}

static const sk_link *link_for(const sk_sim *sim, uint32_t from, uint32_t to) {
  const sk_link *best = &sim->defaults;
  int best_score = 0;
  size_t i;
  /* the most specific rule wins: both ends, then one, then the default */
  for (i = 0; i < sim->nrules; i++) {
    const rule *r = &sim->rules[i];
    int score;
    if ((r->from && r->from != from) || (r->to && r->to != to))
      continue;
    score = 1 + !!r->from + !!r->to;
    if (score >= best_score) {
      best = &r->link;
      best_score = score;
    }
  }
  return best;
}

void sk_sim_get_link(const sk_sim *sim, uint32_t from, uint32_t to,
                     sk_link *out) {
  *out = *link_for(sim, from, to);
}

int sk_sim_impair(sk_sim *sim, uint32_t from, uint32_t to, const sk_link *l) {
  size_t i;
  rule *r;
  if (!from && !to) {
    sim->defaults = *l;
    return SK_OK;
  }
  for (i = 0; i < sim->nrules; i++)
    if (sim->rules[i].from == from && sim->rules[i].to == to) {
      sim->rules[i].link = *l;
      return SK_OK;
    }
  r = realloc(sim->rules, (sim->nrules + 1) * sizeof *r);
  if (!r)
    return SK_ENOMEM;
  sim->rules = r;
  r[sim->nrules].from = from;
  r[sim->nrules].to = to;
  r[sim->nrules].link = *l;
  sim->nrules++;
  return SK_OK;
}

static uint32_t ip_dst(const uint8_t *p, size_t len) {
  if (len < 20)
    return 0;
  return (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 |
         p[19];
}

/* The time a packet leaves a rate-limited wire (serialized after what is
 * queued before it), or SK_NEVER when the queue is over its cap. */
static uint64_t departure(sk_sim *sim, const sk_link *l, uint32_t from,
                          uint32_t to, size_t len) {
  wire *w = NULL;
  uint64_t start, queued_bytes;
  size_t i;
  if (!l->rate)
    return sim->now;
  for (i = 0; i < sim->nwires && !w; i++)
    if (sim->wires[i].from == from && sim->wires[i].to == to)
      w = &sim->wires[i];
  if (!w) {
    wire *ws = realloc(sim->wires, (sim->nwires + 1) * sizeof *ws);
    if (!ws)
      return SK_NEVER;
    sim->wires = ws;
    w = &ws[sim->nwires++];
    w->from = from;
    w->to = to;
    w->busy_until = 0;
  }
  start = w->busy_until > sim->now ? w->busy_until : sim->now;
  queued_bytes = (start - sim->now) * l->rate / 8000000;
  if (queued_bytes + len > (l->queue ? l->queue : 131072))
    return SK_NEVER; /* tail drop */
  w->busy_until = start + (uint64_t)len * 8000000 / l->rate;
  return w->busy_until;
}

static int chance(sk_sim *sim, double p) { return p > 0 && rng_unit(sim) < p; }

static uint64_t uniform(sk_sim *sim, uint64_t max) {
  return max ? rng_next(sim) % (max + 1) : 0;
}

static void schedule(sk_sim *sim, const uint8_t *data, size_t len, uint32_t to,
                     uint64_t t) {
  pkt *p = malloc(sizeof *p + len);
  if (!p)
    return;
  p->t = t;
  p->seq = sim->seq++;
  p->to = to;
  p->len = (uint32_t)len;
  memcpy(p->data, data, len);
  if (!heap_push(sim, p))
    free(p);
}

/* One copy on its way: delay, jitter and reordering decide when it
 * arrives. */
static uint64_t arrival(sk_sim *sim, const sk_link *l, uint64_t leaves) {
  uint64_t t = leaves + l->delay + uniform(sim, l->jitter);
  if (chance(sim, l->reorder))
    t += 1000 + uniform(sim, 2 * l->delay);
  return t;
}

/* Every packet enters the switch here, at the current time. */
static void transmit(sk_sim *sim, uint32_t from, const uint8_t *data,
                     size_t len) {
  uint32_t to = ip_dst(data, len);
  const sk_link *l = link_for(sim, from, to);
  uint8_t *copy = sim->scratch;
  uint64_t leaves;
  int flags = 0;
  if (!find_host(sim, to) || len > 65535 || (l->mtu && len > l->mtu) ||
      chance(sim, l->loss) ||
      (leaves = departure(sim, l, from, to, len)) == SK_NEVER) {
    if (sim->tap)
      sim->tap(sim->tap_ctx, sim->now, data, len, SK_SIM_DROPPED);
    return;
  }
  if (chance(sim, l->corrupt) && len > 0) {
    size_t at = (size_t)uniform(sim, len - 1);
    memcpy(copy, data, len);
    copy[at] ^= (uint8_t)(1u << uniform(sim, 7));
    data = copy;
    flags |= SK_SIM_CORRUPTED;
  }
  if (sim->tap)
    sim->tap(sim->tap_ctx, sim->now, data, len, flags);
  schedule(sim, data, len, to, arrival(sim, l, leaves));
  if (chance(sim, l->duplicate)) {
    if (sim->tap)
      sim->tap(sim->tap_ctx, sim->now, data, len, flags | SK_SIM_DUPLICATE);
    schedule(sim, data, len, to, arrival(sim, l, leaves));
  }
}

static void stack_output(void *ctx, const uint8_t *data, size_t len) {
  host *h = ctx;
  transmit(h->sim, h->addr, data, len);
}

void sk_sim_send(sk_sim *sim, uint32_t from, const uint8_t *p, size_t len) {
  transmit(sim, from, p, len);
}

static host *add_host(sk_sim *sim, uint32_t addr) {
  host *h;
  if (find_host(sim, addr))
    return NULL;
  if (sim->nhosts == sim->hosts_size) {
    size_t n = sim->hosts_size ? sim->hosts_size * 2 : 8;
    host **hs = realloc(sim->hosts, n * sizeof *hs);
    if (!hs)
      return NULL;
    sim->hosts = hs;
    sim->hosts_size = n;
  }
  if (!(h = calloc(1, sizeof *h)))
    return NULL;
  h->sim = sim;
  h->addr = addr;
  sim->hosts[sim->nhosts++] = h;
  return h;
}

static void free_host(host *h) {
  while (h->qlen) {
    free(h->q[h->qhead]);
    h->qhead = (h->qhead + 1) % h->qsize;
    h->qlen--;
  }
  free(h->q);
  sk_stack_free(h->st);
  free(h);
}

sk_stack *sk_sim_add_stack(sk_sim *sim, const sk_config *cfg, int *err) {
  host *h;
  *err = SK_OK;
  if (find_host(sim, cfg->addr)) {
    *err = SK_EADDRINUSE;
    return NULL;
  }
  if (!(h = add_host(sim, cfg->addr)) ||
      !(h->st = sk_stack_new(cfg, stack_output, h))) {
    if (h)
      sk_sim_remove(sim, cfg->addr);
    *err = SK_ENOMEM;
    return NULL;
  }
  return h->st;
}

int sk_sim_add_peer(sk_sim *sim, uint32_t addr, size_t cap) {
  host *h;
  if (find_host(sim, addr))
    return SK_EADDRINUSE;
  if (!(h = add_host(sim, addr)))
    return SK_ENOMEM;
  h->qcap = cap;
  return SK_OK;
}

void sk_sim_remove(sk_sim *sim, uint32_t addr) {
  size_t i;
  for (i = 0; i < sim->nhosts; i++)
    if (sim->hosts[i]->addr == addr) {
      free_host(sim->hosts[i]);
      memmove(sim->hosts + i, sim->hosts + i + 1,
              (sim->nhosts - i - 1) * sizeof *sim->hosts);
      sim->nhosts--;
      return;
    }
}

/* ---- scripted peers ------------------------------------------------------ */

static void peer_enqueue(host *h, pkt *p) {
  if (h->qlen >= h->qcap) {
    h->qdropped++;
    free(p);
    return;
  }
  if (h->qlen == h->qsize) { /* grow the ring, keeping its order */
    size_t n = h->qsize ? h->qsize * 2 : 16, i;
    pkt **q = malloc(n * sizeof *q);
    if (!q) {
      h->qdropped++;
      free(p);
      return;
    }
    for (i = 0; i < h->qlen; i++)
      q[i] = h->q[(h->qhead + i) % h->qsize];
    free(h->q);
    h->q = q;
    h->qsize = n;
    h->qhead = 0;
  }
  h->q[(h->qhead + h->qlen) % h->qsize] = p;
  h->qlen++;
}

size_t sk_sim_peer_recv(sk_sim *sim, uint32_t addr, uint8_t *buf, size_t cap,
                        uint64_t *when) {
  host *h = find_host(sim, addr);
  pkt *p;
  size_t n;
  if (!h || h->st || h->qlen == 0)
    return 0;
  p = h->q[h->qhead];
  h->qhead = (h->qhead + 1) % h->qsize;
  h->qlen--;
  n = p->len < cap ? p->len : cap;
  memcpy(buf, p->data, n);
  if (when)
    *when = p->t;
  free(p);
  return n;
}

size_t sk_sim_peer_queued(const sk_sim *sim, uint32_t addr) {
  const host *h = find_host(sim, addr);
  return h && !h->st ? h->qlen : 0;
}

uint64_t sk_sim_peer_dropped(const sk_sim *sim, uint32_t addr) {
  const host *h = find_host(sim, addr);
  return h ? h->qdropped : 0;
}

/* ---- running ------------------------------------------------------------- */

sk_sim *sk_sim_new(uint64_t seed, const sk_link *defaults) {
  sk_sim *sim = calloc(1, sizeof *sim);
  uint64_t x = seed;
  int i;
  if (!sim)
    return NULL;
  sim->seed = seed;
  for (i = 0; i < 4; i++)
    sim->rng[i] = splitmix64(&x);
  if (defaults)
    sim->defaults = *defaults;
  return sim;
}

void sk_sim_free(sk_sim *sim) {
  size_t i;
  if (!sim)
    return;
  for (i = 0; i < sim->nhosts; i++)
    free_host(sim->hosts[i]);
  for (i = 0; i < sim->hlen; i++)
    free(sim->heap[i]);
  free(sim->hosts);
  free(sim->heap);
  free(sim->rules);
  free(sim->wires);
  free(sim);
}

uint64_t sk_sim_now(const sk_sim *sim) { return sim->now; }
uint64_t sk_sim_seed(const sk_sim *sim) { return sim->seed; }

void sk_sim_set_tap(sk_sim *sim, sk_sim_tap_fn fn, void *ctx) {
  sim->tap = fn;
  sim->tap_ctx = ctx;
}

/* The host whose stack is due first (ties: the one added first). */
static host *next_stack(const sk_sim *sim, uint64_t *when) {
  host *best = NULL;
  size_t i;
  *when = SK_NEVER;
  for (i = 0; i < sim->nhosts; i++) {
    host *h = sim->hosts[i];
    uint64_t d;
    if (h->st && (d = sk_stack_deadline(h->st)) < *when) {
      *when = d;
      best = h;
    }
  }
  return best;
}

uint64_t sk_sim_next(const sk_sim *sim) {
  uint64_t t;
  next_stack(sim, &t);
  if (sim->hlen && sim->heap[0]->t < t)
    t = sim->heap[0]->t;
  return t;
}

int sk_sim_dispatch(sk_sim *sim) {
  size_t i;
  int n = 0;
  for (i = 0; i < sim->nhosts; i++)
    if (sim->hosts[i]->st)
      n += sk_stack_dispatch(sim->hosts[i]->st);
  return n;
}

static void deliver(sk_sim *sim, pkt *p) {
  host *h = find_host(sim, p->to);
  if (h && h->st) {
    sk_ip_input(h->st, sim->now, p->data, p->len, stack_output, h);
    free(p);
  } else if (h)
    peer_enqueue(h, p);
  else /* its host left the network while it was in flight */
    free(p);
}

int sk_sim_step(sk_sim *sim, uint64_t until) {
  uint64_t due;
  host *h = next_stack(sim, &due);
  int packet = sim->hlen && sim->heap[0]->t <= due;
  uint64_t t = packet ? sim->heap[0]->t : due;
  if (t == SK_NEVER || t > until) {
    if (until != SK_NEVER && until > sim->now)
      sim->now = until;
    return 0;
  }
  if (t > sim->now) /* a deadline already past runs now */
    sim->now = t;
  if (packet)
    deliver(sim, heap_pop(sim));
  else
    sk_stack_poll(h->st, sim->now);
  return 1;
}
