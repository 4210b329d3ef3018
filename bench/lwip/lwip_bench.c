/*
 * bench/lwip/lwip_bench.c — lwIP 2.1 (Debian's liblwip) measured the way
 * bench/synack_bench.c measures synack: two stacks in one process and one
 * thread, an in-memory link copying each packet, the wall clock.
 *
 *   lwip_bench NODE.so bulk SECONDS   MTU 1500, receiver copies out: Gbit/s
 *   lwip_bench NODE.so rst N          serial handshakes ended by tcp_abort
 *   lwip_bench NODE.so fin N          serial handshakes, client closes first
 *   lwip_bench NODE.so mem N          N idle connections: heap bytes each
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*out_fn)(void *, const uint8_t *, size_t);

typedef struct node {
  void (*init)(uint32_t, uint32_t, uint16_t, out_fn, void *);
  void (*input)(const uint8_t *, size_t);
  void (*poll)(void);
  void (*listen)(uint16_t);
  int (*accepted)(void);
  int (*closed)(void);
  unsigned long long (*received)(void);
  int (*connect)(uint32_t, uint16_t);
  int (*connected)(void);
  void (*bulk)(const uint8_t *);
  void (*abort)(void);
  void (*close)(void);
  unsigned long long (*heap)(void);
  uint8_t *q; /* packets on their way to this node */
  size_t qlen;
} node;

#define QCAP (16u << 20)
static node A, B;

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void enqueue(node *n, const uint8_t *p, size_t len) {
  uint32_t l = (uint32_t)len;
  if (n->qlen + 4 + len > QCAP)
    return; /* full: lost */
  memcpy(n->q + n->qlen, &l, 4);
  memcpy(n->q + n->qlen + 4, p, len);
  n->qlen += 4 + len;
}

static void out_a(void *ctx, const uint8_t *p, size_t len) {
  (void)ctx;
  enqueue(&B, p, len);
}
static void out_b(void *ctx, const uint8_t *p, size_t len) {
  (void)ctx;
  enqueue(&A, p, len);
}

/* Delivers what waits for n (what n sends goes to the other queue);
 * returns how many. */
static int deliver(node *n) {
  size_t off = 0;
  int count = 0;
  while (off < n->qlen) {
    uint32_t l;
    memcpy(&l, n->q + off, 4);
    n->input(n->q + off + 4, l);
    off += 4 + l;
    count++;
  }
  n->qlen = 0;
  return count;
}

static void settle(void) {
  while (deliver(&B) + deliver(&A))
    ;
}

static void load(node *n, const char *path) {
  void *h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "dlmopen %s: %s\n", path, dlerror());
    exit(1);
  }
#define SYM(f) *(void **)(&n->f) = dlsym(h, "node_" #f)
  SYM(init);
  SYM(input);
  SYM(poll);
  SYM(listen);
  SYM(accepted);
  SYM(closed);
  SYM(received);
  SYM(connect);
  SYM(connected);
  SYM(bulk);
  SYM(abort);
  SYM(close);
  SYM(heap);
#undef SYM
  n->q = malloc(QCAP);
}

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u

static int open_conn(uint16_t port) {
  if (A.connect(B_ADDR, port) != 0)
    return -1;
  settle();
  return A.connected() ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *cmd;
  double x;
  if (argc < 3) {
    fprintf(stderr, "usage: lwip_bench NODE.so bulk SECONDS | rst N | fin N | mem N\n");
    return 2;
  }
  cmd = argv[2];
  x = argc > 3 ? atof(argv[3]) : 0;
  load(&A, argv[1]);
  load(&B, argv[1]);
  A.init(A_ADDR, B_ADDR, 1500, out_a, NULL);
  B.init(B_ADDR, A_ADDR, 1500, out_b, NULL);
  B.listen(80);
  if (strcmp(cmd, "bulk") == 0) {
    static uint8_t data[65536];
    double t0, t;
    unsigned long long start;
    int i;
    if (open_conn(80) != 0)
      return 1;
    A.bulk(data);
    start = B.received();
    t0 = wall();
    do {
      for (i = 0; i < 64; i++)
        if (!(deliver(&B) + deliver(&A)))
          break;
      A.poll();
      B.poll();
      t = wall() - t0;
    } while (t < (x ? x : 2));
    printf("gbit_s %.3f bytes %llu seconds %.3f\n",
           (B.received() - start) * 8 / t / 1e9, B.received() - start, t);
    return 0;
  }
  if (strcmp(cmd, "rst") == 0 || strcmp(cmd, "fin") == 0) {
    uint32_t n = (uint32_t)(x ? x : 100000), i, tenth = n / 10 ? n / 10 : 1;
    int rst = cmd[0] == 'r';
    double t0 = wall(), tfirst = 0, tlast = 0, t;
    for (i = 0; i < n; i++) {
      if (i == tenth)
        tfirst = wall() - t0;
      if (i == n - tenth)
        tlast = wall();
      if (open_conn(80) != 0) {
        fprintf(stderr, "connection %u failed\n", i);
        break;
      }
      if (rst)
        A.abort();
      else
        A.close();
      settle();
      if ((i & 1023) == 0) {
        A.poll();
        B.poll();
      }
    }
    t = wall() - t0;
    printf("conn_s %.0f first10_conn_s %.0f last10_conn_s %.0f done %u\n",
           i / t, tenth / tfirst, tenth / (wall() - tlast), i);
    return 0;
  }
  if (strcmp(cmd, "mem") == 0) {
    uint32_t n = (uint32_t)(x ? x : 10000), i;
    unsigned long long before = A.heap() + B.heap();
    for (i = 0; i < n; i++)
      if (open_conn(80) != 0)
        return 1;
    printf("bytes_per_endpoint %.1f conns %u\n",
           (double)(A.heap() + B.heap() - before) / (2.0 * n), n);
    return 0;
  }
  return 2;
}
