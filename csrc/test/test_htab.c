/* test_htab.c — the two 4-tuple tables while they double a little at a
 * time (htab.c): every entry is found before, during and after a move, a
 * removed one is not (removals during a move too), each insert moves
 * exactly HTAB_STEP old buckets and a move ends before the next doubling,
 * a refused doubling leaves a working table, and every byte comes back,
 * the tables freed in the middle of a move included. */
#include <stdlib.h>
#include <string.h>

#include "../tcp/tcb.h"
#include "check.h"

#define N 100000u /* TIME-WAIT entries; connections: half */

/* ---- an allocator that checks the sizes it is told ----------------------- */

static long long held;   /* bytes allocated and not freed */
static int bad_sizes;    /* frees or reallocs with the wrong old size */
static int refuse_above; /* 0, or: refuse fresh blocks larger than this */

static void *alloc(void *ud, void *p, size_t o, size_t n) {
  size_t *h = p ? (size_t *)p - 2 : NULL;
  (void)ud;
  if (h && h[0] != o)
    bad_sizes++;
  if (n == 0) {
    held -= (long long)o;
    free(h);
    return NULL;
  }
  if (!p && refuse_above && n > (size_t)refuse_above)
    return NULL;
  if (!(h = realloc(h, n + 2 * sizeof *h)))
    return NULL;
  held += (long long)n - (long long)(p ? o : 0);
  h[0] = n;
  return h + 2;
}

static void out(void *ctx, const uint8_t *p, size_t len) {
  (void)ctx;
  (void)p;
  (void)len;
}

static sk_stack *new_stack(void) {
  sk_config cfg;
  sk_config_init(&cfg);
  cfg.alloc = alloc;
  cfg.max_time_wait = 4 * N;
  return sk_stack_new(&cfg, out, NULL);
}

/* Distinct tuples that share addresses and ports with their neighbours. */
static void tuple(uint32_t i, uint32_t *raddr, uint16_t *rport,
                  uint16_t *lport) {
  *raddr = 0x0a000000u + i / 1000;
  *rport = (uint16_t)(40000 + i % 1000);
  *lport = (uint16_t)(80 + i % 3);
}

/* ---- the connection table ------------------------------------------------ */

static sk_conn **conns;
static int *in; /* conns[i] is in the table */

static int conn_found(sk_stack *s, uint32_t i) {
  uint32_t raddr;
  uint16_t rport, lport;
  tuple(i, &raddr, &rport, &lport);
  return conn_lookup(s, raddr, rport, lport) == (in[i] ? conns[i] : NULL);
}

/* Inserts conn i, checking how the move advances. */
static void conn_insert(sk_stack *s, uint32_t i, int *pace_ok) {
  htab before = s->conns;
  uint32_t left = before.old ? before.n / 2 - before.moved : 0;
  conns[i] = calloc(1, sizeof **conns);
  tuple(i, &conns[i]->raddr, &conns[i]->rport, &conns[i]->lport);
  conn_hash_insert(s, conns[i]);
  in[i] = 1;
  if (s->conns.n != before.n) { /* a doubling: the last move was over */
    if (before.old)
      *pace_ok = 0;
  } else if (before.old) { /* a move: exactly HTAB_STEP buckets, or the rest */
    uint32_t step = left < HTAB_STEP ? left : HTAB_STEP;
    if (step == left ? s->conns.old != NULL
                     : s->conns.moved != before.moved + step)
      *pace_ok = 0;
  }
}

static void connections(void) {
  sk_stack *s = new_stack();
  uint32_t i, j, bad = 0, moving = 0, total = 140000; /* past 131072 */
  int pace_ok = 1;
  conns = calloc(total, sizeof *conns);
  in = calloc(total, sizeof *in);
  for (i = 0; i < N / 2; i++) {
    conn_insert(s, i, &pace_ok);
    moving += s->conns.old != NULL;
    /* the newest and a few older ones, at every step */
    bad += !conn_found(s, i);
    for (j = 0; j < 4; j++)
      bad += !conn_found(s, (uint32_t)rand() % (i + 1));
    /* all of them, once in the middle of each move */
    if (s->conns.old && s->conns.moved == s->conns.n / 4)
      for (j = 0; j <= i; j++)
        bad += !conn_found(s, j);
  }
  CHECK_EQ(bad, 0);
  CHECK(pace_ok);
  CHECK(moving > 0);
  CHECK(conn_lookup(s, 0x0b000000u, 1, 2) == NULL); /* never inserted */
  /* removals during a move: insert until one is under way, then take
   * every third entry out while inserting more */
  for (i = N / 2; !s->conns.old && i < total; i++)
    conn_insert(s, i, &pace_ok);
  for (j = 0; s->conns.old && i < total; i++, j += 3) {
    conn_hash_remove(s, conns[j]);
    in[j] = 0;
    conn_insert(s, i, &pace_ok);
  }
  CHECK(s->conns.old == NULL); /* the move ended */
  for (j = 0, bad = 0; j < i; j++)
    bad += !conn_found(s, j);
  CHECK_EQ(bad, 0);
  CHECK(pace_ok);
  /* freed in the middle of a move: every byte comes back (the stack does
   * not own these fake connections: it frees the table around them) */
  for (; !s->conns.old && i < total; i++)
    conn_insert(s, i, &pace_ok);
  CHECK(s->conns.old != NULL);
  sk_stack_free(s);
  CHECK_EQ(held, 0);
  for (j = 0; j < i; j++)
    free(conns[j]);
  free(conns);
  free(in);
}

/* A doubling refused by the allocator: longer chains, still right. */
static void refused(void) {
  sk_stack *s = new_stack();
  uint32_t i, bad = 0, n;
  int pace_ok = 1;
  conns = calloc(N / 10, sizeof *conns);
  in = calloc(N / 10, sizeof *in);
  refuse_above = 4096; /* 512 buckets of 8 bytes, no more */
  for (i = 0; i < N / 10; i++)
    conn_insert(s, i, &pace_ok);
  n = s->conns.n;
  CHECK(n <= 512 && s->conns.old == NULL);
  CHECK(s->nconns > 8 * n); /* the chains grew instead */
  for (i = 0; i < N / 10; i++)
    bad += !conn_found(s, i);
  CHECK_EQ(bad, 0);
  refuse_above = 0; /* memory again: the next insert doubles */
  conns = realloc(conns, (N / 10 + 1) * sizeof *conns);
  in = realloc(in, (N / 10 + 1) * sizeof *in);
  conn_insert(s, N / 10, &pace_ok);
  CHECK_EQ(s->conns.n, 2 * n);
  for (i = 0, bad = 0; i <= N / 10; i++)
    bad += !conn_found(s, i);
  CHECK_EQ(bad, 0);
  for (i = 0; i <= N / 10; i++) {
    conn_hash_remove(s, conns[i]);
    free(conns[i]);
  }
  sk_stack_free(s);
  CHECK_EQ(held, 0);
  free(conns);
  free(in);
}

/* ---- the TIME-WAIT table ------------------------------------------------- */

static int tw_found(sk_stack *s, uint32_t i, int want) {
  uint32_t raddr;
  uint16_t rport, lport;
  tuple(i, &raddr, &rport, &lport);
  return (tw_lookup(s, raddr, rport, lport) != 0) == want;
}

static void time_wait(void) {
  sk_stack *s = new_stack();
  sk_conn c;
  uint32_t i, j, bad = 0, moving = 0, total = 300000; /* past 262144 */
  uint64_t now = 1000000;
  long long base = held;
  char *gone = calloc(total, 1);
  memset(&c, 0, sizeof c);
  c.stack = s;
  c.prm = params_get(s, &s->cfg.params);
  c.flags = CF_TS; /* so that an entry may be reused (RFC 6191) */
  for (i = 0; i < N; i++) {
    tuple(i, &c.raddr, &c.rport, &c.lport);
    bad += tw_enter(s, &c, now) != 1; /* no owner: the entry is all */
    moving += s->tw.hash.old != NULL;
    bad += !tw_found(s, i, 1);
    if (s->tw.hash.old && s->tw.hash.moved == s->tw.hash.n / 4)
      for (j = 0; j <= i; j++)
        bad += !tw_found(s, j, 1);
  }
  CHECK_EQ(bad, 0);
  CHECK(moving > 0);
  CHECK_EQ(s->tw.count, N);
  CHECK(tw_lookup(s, 0x0b000000u, 1, 2) == 0);
  /* removals during a move: the entries of every third tuple go as their
   * ports are taken again (timestamps on both sides, a second old: Linux's
   * tcp_tw_reuse) while more come in */
  for (; !s->tw.hash.old && i < total; i++) {
    tuple(i, &c.raddr, &c.rport, &c.lport);
    bad += tw_enter(s, &c, now) != 1;
  }
  now += 2000000;
  for (j = 0; s->tw.hash.old && i < total; i++, j += 3) {
    uint32_t raddr;
    uint16_t rport, lport;
    tuple(j, &raddr, &rport, &lport);
    bad += tw_port_free(s, raddr, rport, lport, 1, now) != 1;
    gone[j] = 1;
    tuple(i, &c.raddr, &c.rport, &c.lport);
    bad += tw_enter(s, &c, now) != 1;
  }
  CHECK(s->tw.hash.old == NULL); /* the move ended */
  for (j = 0; j < i; j++)
    bad += !tw_found(s, j, !gone[j]);
  CHECK_EQ(bad, 0);
  free(gone);
  /* 2 MSL later every entry goes, and with the last one the table */
  now += 2 * (uint64_t)c.prm->msl + 1000;
  tw_expire(s, now);
  CHECK_EQ(s->tw.count, 0);
  CHECK(s->tw.hash.n == 0 && s->tw.hash.old == NULL);
  CHECK_EQ(held - base, sizeof(param_block)); /* what c.prm holds */
  /* freed in the middle of a move: every byte comes back */
  for (i = 0; !s->tw.hash.old && i < total; i++) {
    tuple(i, &c.raddr, &c.rport, &c.lport);
    bad += tw_enter(s, &c, now) != 1;
  }
  CHECK(s->tw.hash.old != NULL);
  params_put(s, c.prm);
  sk_stack_free(s);
  CHECK_EQ(held, 0);
}

int main(void) {
  srand(1);
  connections();
  refused();
  time_wait();
  CHECK_EQ(bad_sizes, 0);
  return check_done("test_htab");
}
