/* test_htab.c — the two 4-tuple tables while they double a little at a
 * time (htab.c): every entry is found before, during and after a move, a
 * removed one is not, no insert moves more than HTAB_STEP old buckets, and
 * everything is given back. */
#include <stdlib.h>
#include <string.h>

#include "../tcp/tcb.h"
#include "check.h"

#define N 100000u

static void out(void *ctx, const uint8_t *p, size_t len) {
  (void)ctx;
  (void)p;
  (void)len;
}

/* Distinct tuples that share addresses and ports with their neighbours. */
static void tuple(uint32_t i, uint32_t *raddr, uint16_t *rport,
                  uint16_t *lport) {
  *raddr = 0x0a000000u + i / 1000;
  *rport = (uint16_t)(40000 + i % 1000);
  *lport = (uint16_t)(80 + i % 3);
}

static sk_conn *make(uint32_t i) {
  sk_conn *c = calloc(1, sizeof *c);
  tuple(i, &c->raddr, &c->rport, &c->lport);
  return c;
}

static int found(sk_stack *s, uint32_t i, sk_conn *c) {
  uint32_t raddr;
  uint16_t rport, lport;
  tuple(i, &raddr, &rport, &lport);
  return conn_lookup(s, raddr, rport, lport) == c;
}

static void connections(void) {
  sk_config cfg;
  sk_stack *s;
  sk_conn **c = calloc(N, sizeof *c);
  uint32_t i, j, bad = 0, moves = 0, steps_ok = 1;
  uint64_t base;
  sk_config_init(&cfg);
  s = sk_stack_new(&cfg, out, NULL);
  base = s->mem.bytes;
  for (i = 0; i < N; i++) {
    uint32_t before = s->conns.old ? s->conns.moved : 0;
    int was_moving = s->conns.old != NULL;
    c[i] = make(i);
    conn_hash_insert(s, c[i]);
    if (was_moving && s->conns.old && s->conns.moved - before > HTAB_STEP)
      steps_ok = 0;
    moves += s->conns.old != NULL;
    /* the newest and a few older ones, at every step */
    bad += !found(s, i, c[i]);
    for (j = 0; j < 4; j++) {
      uint32_t k = (uint32_t)rand() % (i + 1);
      bad += !found(s, k, c[k]);
    }
    /* all of them, at a few moments in the middle of a move */
    if (s->conns.old && s->conns.moved == s->conns.n / 4)
      for (j = 0; j <= i; j++)
        bad += !found(s, j, c[j]);
  }
  CHECK_EQ(bad, 0);
  CHECK(steps_ok);
  CHECK(moves > 0); /* the moves were seen */
  CHECK(s->conns.n >= N / 2);
  /* a tuple never inserted is not found */
  CHECK(conn_lookup(s, 0x0b000000u, 1, 2) == NULL);
  /* removals, during a move too: grow once more, then take every other */
  for (i = 0; i < N; i += 2)
    conn_hash_remove(s, c[i]);
  for (i = 0, bad = 0; i < N; i++)
    bad += i % 2 ? !found(s, i, c[i]) : !found(s, i, NULL);
  CHECK_EQ(bad, 0);
  CHECK_EQ(s->nconns, N / 2);
  for (i = 1; i < N; i += 2)
    conn_hash_remove(s, c[i]);
  CHECK_EQ(s->nconns, 0);
  for (i = 0; i < N; i++)
    free(c[i]);
  free(c);
  CHECK(s->mem.bytes > base); /* the table kept its size */
  sk_stack_free(s);
}

static void time_wait(void) {
  sk_config cfg;
  sk_stack *s;
  sk_conn c;
  uint32_t i, j, bad = 0, moves = 0;
  uint64_t now = 1000000, base;
  sk_config_init(&cfg);
  cfg.max_time_wait = N;
  s = sk_stack_new(&cfg, out, NULL);
  base = s->mem.bytes;
  memset(&c, 0, sizeof c);
  c.stack = s;
  c.prm = params_get(s, &s->cfg.params);
  for (i = 0; i < N; i++) {
    tuple(i, &c.raddr, &c.rport, &c.lport);
    CHECK_EQ(tw_enter(s, &c, now), 1) /* no owner: the entry is all */;
    moves += s->tw.hash.old != NULL;
    bad += tw_lookup(s, c.raddr, c.rport, c.lport) == 0;
    if (s->tw.hash.old && s->tw.hash.moved == s->tw.hash.n / 4)
      for (j = 0; j <= i; j++) {
        uint32_t raddr;
        uint16_t rport, lport;
        tuple(j, &raddr, &rport, &lport);
        bad += tw_lookup(s, raddr, rport, lport) == 0;
      }
  }
  CHECK_EQ(bad, 0);
  CHECK(moves > 0);
  CHECK_EQ(s->tw.count, N);
  CHECK(tw_lookup(s, 0x0b000000u, 1, 2) == 0);
  /* 2 MSL later every entry goes, and with the last one the table */
  tw_expire(s, now + 2 * (uint64_t)c.prm->msl + 1000);
  CHECK_EQ(s->tw.count, 0);
  CHECK(s->tw.hash.n == 0 && s->tw.hash.old == NULL);
  params_put(s, c.prm);
  CHECK_EQ(s->mem.bytes, base);
  sk_stack_free(s);
}

int main(void) {
  srand(1);
  connections();
  time_wait();
  return check_done("test_htab");
}
