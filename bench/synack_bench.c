/*
 * bench/synack_bench.c — synack measured alone: two stacks in one
 * process and one thread, joined by an in-memory link (each packet is
 * copied into a queue, as onto a wire, and handed to the other stack).
 * Time is the wall clock.  Each command prints one result line of
 * `key value` pairs; bench/run.lua runs them, takes medians and compares
 * them with the peers.
 *
 *   synack_bench bulk MTU SECONDS   one connection, the receiver copies
 *                                   the data out: Gbit/s
 *   synack_bench rst N              N handshakes one after another, each
 *                                   ended by the client's RST: conn/s
 *   synack_bench fin N              N handshakes, the client closing
 *                                   first so TIME-WAIT piles up: conn/s,
 *                                   the first and last 10 %, and the
 *                                   rate in each tenth
 *   synack_bench mem N              N idle ESTABLISHED connections:
 *                                   bytes per endpoint
 *   synack_bench tw N               N TIME-WAIT entries: bytes each
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../csrc/synack.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define QCAP (8u << 20) /* bytes of packets a direction holds */

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the link ------------------------------------------------------------ */

typedef struct queue {
  uint8_t *buf;
  size_t head, tail; /* packets as [u32 len][bytes], head..tail */
} queue;

typedef struct side {
  sk_stack *s;
  queue q; /* packets on their way to this side */
} side;

static side A, B;
static uint64_t now = 1000000; /* µs; moves with the wall clock */

static void enqueue(queue *q, const uint8_t *p, size_t len) {
  uint32_t n = (uint32_t)len;
  if (q->tail + 4 + len > QCAP) { /* compact, or drop when full */
    memmove(q->buf, q->buf + q->head, q->tail - q->head);
    q->tail -= q->head;
    q->head = 0;
    if (q->tail + 4 + len > QCAP)
      return;
  }
  memcpy(q->buf + q->tail, &n, 4);
  memcpy(q->buf + q->tail + 4, p, len);
  q->tail += 4 + len;
}

static void to_b(void *ctx, const uint8_t *p, size_t len) {
  (void)ctx;
  enqueue(&B.q, p, len);
}
static void to_a(void *ctx, const uint8_t *p, size_t len) {
  (void)ctx;
  enqueue(&A.q, p, len);
}

/* Hands every queued packet to its stack; returns how many. */
static int deliver(side *d) {
  int n = 0;
  while (d->q.head < d->q.tail) {
    uint32_t len;
    memcpy(&len, d->q.buf + d->q.head, 4);
    d->q.head += 4;
    sk_stack_input(d->s, now, d->q.buf + d->q.head, len);
    d->q.head += len;
    n++;
  }
  d->q.head = d->q.tail = 0;
  return n;
}

static void tick(void) {
  now = (uint64_t)(wall() * 1e6);
  sk_stack_poll(A.s, now);
  sk_stack_poll(B.s, now);
}

/* Runs the link until nothing moves. */
static void settle(void) {
  while (deliver(&B) + deliver(&A))
    ;
  sk_stack_dispatch(A.s);
  sk_stack_dispatch(B.s);
}

static void setup(uint32_t mtu, uint32_t buf, int timestamps, int sack) {
  sk_config cfg;
  A.q.buf = malloc(QCAP);
  B.q.buf = malloc(QCAP);
  sk_config_init(&cfg);
  memcpy(cfg.secret, "synack-bench-key", 16);
  cfg.params.mss = (uint16_t)(mtu - 40);
  cfg.params.sndbuf = cfg.params.rcvbuf = buf;
  cfg.params.timestamps = (uint8_t)timestamps;
  cfg.params.sack = (uint8_t)sack;
  cfg.max_time_wait = 1u << 22;
  cfg.backlog = 1u << 20;
  cfg.addr = A_ADDR;
  A.s = sk_stack_new(&cfg, to_b, NULL);
  cfg.addr = B_ADDR;
  cfg.secret[0] ^= 1;
  B.s = sk_stack_new(&cfg, to_a, NULL);
  now = (uint64_t)(wall() * 1e6);
}

static void teardown(void) {
  sk_stack_free(A.s);
  sk_stack_free(B.s);
  free(A.q.buf);
  free(B.q.buf);
}

/* A connection from A to B port `port`, established and accepted. */
static sk_conn *open_pair(sk_listener *l, uint16_t port, sk_conn **server) {
  int err;
  sk_conn *c = sk_connect(A.s, now, B_ADDR, port, NULL, &err);
  if (!c)
    return NULL;
  settle();
  *server = sk_listener_accept(l);
  return c;
}

/* Listeners on PORTS ports of B: 128 x 16k ephemeral ports.  With 32, the
 * 300,000 TIME-WAIT entries of `fin` held 57 % of the 4-tuples at the end
 * and the client's port search (RFC 6056) slowed the last tenth; with 128
 * they hold 14 %, and the rate measures the TIME-WAIT table, not the
 * search. */
#define PORTS 128
static sk_listener *ports[PORTS];

static void listen_all(void) {
  int i, err;
  for (i = 0; i < PORTS; i++)
    ports[i] = sk_listen(B.s, (uint16_t)(1000 + i), NULL, &err);
}

static sk_conn *open_nth(uint32_t i, sk_conn **server) {
  return open_pair(ports[i % PORTS], (uint16_t)(1000 + i % PORTS), server);
}

/* Ends a pair: the client's RST, or its FIN first and then the server's
 * (the client holds the TIME-WAIT). */
static void end_pair(sk_conn *c, sk_conn *s, int rst) {
  if (rst)
    sk_conn_abort(c, now);
  else
    sk_conn_close(c, now);
  settle();
  if (!rst)
    sk_conn_close(s, now);
  sk_conn_release(c, now);
  sk_conn_release(s, now);
  settle();
}

static uint64_t memory(void) {
  return sk_stack_stats(A.s)->memory + sk_stack_stats(B.s)->memory;
}

/* ---- rows ---------------------------------------------------------------- */

static int bulk(uint32_t mtu, double secs) {
  static uint8_t chunk[1 << 16], sink[1 << 16];
  sk_listener *l;
  sk_conn *c, *s;
  uint64_t got = 0;
  double t0, t;
  int err;
  /* windows of several segments: 256 KiB at MTU 1500, 4 MiB for 64 KiB */
  setup(mtu, mtu > 9000 ? 4u << 20 : 256u << 10, 1, 1);
  l = sk_listen(B.s, 80, NULL, &err);
  c = open_pair(l, 80, &s);
  if (!c || !s)
    return 1;
  t0 = wall();
  do {
    int i;
    for (i = 0; i < 64; i++) {
      ptrdiff_t n;
      while (sk_conn_write(c, now, chunk, sizeof chunk) > 0)
        ;
      deliver(&B);
      while ((n = sk_conn_read(s, now, sink, sizeof sink)) > 0)
        got += (uint64_t)n;
      deliver(&A);
    }
    tick();
    t = wall() - t0;
  } while (t < secs);
  printf("gbit_s %.3f bytes %llu seconds %.3f retransmits %llu\n",
         got * 8 / t / 1e9, (unsigned long long)got, t,
         (unsigned long long)sk_stack_stats(A.s)->retransmits);
  teardown();
  return 0;
}

/* Serial connections, each opened and then ended by the client with a
 * RST or a FIN; or (tw) the memory of the TIME-WAIT entries left. */
static int conns(uint32_t n, int rst, int tw) {
  uint32_t i, tenth = n / 10, count;
  double t0, mark[11], w, prev, slowest = 0;
  uint64_t before;
  if (n < 10) {
    fprintf(stderr, "at least 10 connections\n");
    return 2;
  }
  setup(1500, 64u << 10, 1, 1);
  listen_all();
  before = memory();
  t0 = prev = w = wall();
  for (i = 0; i <= n; i++) {
    sk_conn *c, *s = NULL;
    if (!rst || i % tenth == 0 || i == n) { /* the clock costs 2 % of rst */
      w = wall();
      if (w - prev > slowest) /* the longest one connection took */
        slowest = w - prev;
      prev = w;
    }
    if (i % tenth == 0 && i / tenth < 10)
      mark[i / tenth] = w; /* tenths: the last one takes what is left */
    if (i == n)
      break;
    if (!(c = open_nth(i, &s)) || !s) {
      fprintf(stderr, "connection %u failed\n", i);
      return 1;
    }
    end_pair(c, s, rst);
    if ((i & 1023) == 0 && !tw)
      tick();
  }
  mark[10] = w;
  if (tw)
    printf("bytes_per_entry %.1f entries %llu\n",
           (double)(memory() - before) / (double)sk_stack_stats(A.s)->time_wait,
           (unsigned long long)sk_stack_stats(A.s)->time_wait);
  else {
    printf("conn_s %.0f first10_conn_s %.0f last10_conn_s %.0f time_wait "
           "%llu",
           n / (w - t0), tenth / (mark[1] - mark[0]),
           (n - 9 * tenth) / (mark[10] - mark[9]),
           (unsigned long long)sk_stack_stats(A.s)->time_wait);
    if (!rst)
      printf(" slowest_us %.0f", slowest * 1e6);
    printf(" deciles");
    for (i = 0; i < 10; i++) { /* conn/s in each tenth of the run */
      count = i < 9 ? tenth : n - 9 * tenth;
      printf("%c%.0f", i ? ',' : ' ', count / (mark[i + 1] - mark[i]));
    }
    printf("\n");
  }
  teardown();
  return 0;
}

/* Idle ESTABLISHED connections: what each endpoint costs, by the
 * allocator's own accounting, buffers empty. */
static int mem(uint32_t n) {
  uint64_t before;
  uint32_t i;
  setup(1500, 64u << 10, 1, 1);
  listen_all();
  before = memory();
  for (i = 0; i < n; i++) {
    sk_conn *s;
    if (!open_nth(i, &s) || !s)
      return 1;
  }
  settle();
  printf("bytes_per_endpoint %.1f conns %u\n",
         (double)(memory() - before) / (2.0 * n), n);
  teardown();
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  double x = argc > 2 ? atof(argv[2]) : 0, y = argc > 3 ? atof(argv[3]) : 0;
  if (strcmp(cmd, "bulk") == 0)
    return bulk((uint32_t)(x ? x : 1500), y ? y : 2);
  if (strcmp(cmd, "rst") == 0)
    return conns((uint32_t)(x ? x : 300000), 1, 0);
  if (strcmp(cmd, "fin") == 0)
    return conns((uint32_t)(x ? x : 100000), 0, 0);
  if (strcmp(cmd, "mem") == 0)
    return mem((uint32_t)(x ? x : 10000));
  if (strcmp(cmd, "tw") == 0)
    return conns((uint32_t)(x ? x : 100000), 0, 1);
  fprintf(stderr, "usage: synack_bench bulk MTU SECONDS | rst N | fin N | "
                  "mem N | tw N\n");
  return 2;
}
