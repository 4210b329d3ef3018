/* test_assembler.c — the interval set of out-of-order ranges: merging,
 * touching and overlapping ranges, the cap, wrap-around, advancing. */
#include <stdlib.h>
#include <string.h>

#include "../tcp/assembler.h"
#include "check.h"

static char gaps[256];
static void note_gap(void *ctx, uint32_t lo, uint32_t hi) {
  size_t n = strlen(gaps);
  (void)ctx;
  snprintf(gaps + n, sizeof gaps - n, "[%u,%u)", lo, hi);
}
static const char *gaps_of(const assembler *a, uint32_t lo, uint32_t hi) {
  gaps[0] = 0;
  asm_gaps(a, lo, hi, note_gap, NULL);
  return gaps;
}

static void test_merge(void) {
  sk_mem m;
  assembler a = {0};
  mem_init(&m, NULL, NULL);
  CHECK_EQ(asm_add(&a, &m, 100, 200, 8), ASM_OK);
  CHECK_EQ(asm_add(&a, &m, 300, 400, 8), ASM_OK);
  CHECK_EQ(a.n, 2);
  CHECK_EQ(asm_bytes(&a), 200);
  /* touching on the left merges */
  CHECK_EQ(asm_add(&a, &m, 50, 100, 8), ASM_OK);
  CHECK(a.n == 2 && a.r[0].lo == 50 && a.r[0].hi == 200);
  /* overlapping both ends of a hole and both ranges: one range */
  CHECK_EQ(asm_add(&a, &m, 150, 350, 8), ASM_OK);
  CHECK(a.n == 1 && a.r[0].lo == 50 && a.r[0].hi == 400);
  /* a duplicate inside changes nothing */
  CHECK_EQ(asm_add(&a, &m, 60, 70, 8), ASM_OK);
  CHECK(a.n == 1 && a.r[0].lo == 50 && a.r[0].hi == 400);
  /* an empty range changes nothing */
  CHECK_EQ(asm_add(&a, &m, 500, 500, 8), ASM_OK);
  CHECK_EQ(a.n, 1);
  /* gaps: only what no range covers */
  CHECK(strcmp(gaps_of(&a, 0, 600), "[0,50)[400,600)") == 0);
  CHECK(strcmp(gaps_of(&a, 60, 390), "") == 0);
  CHECK(strcmp(gaps_of(&a, 390, 410), "[400,410)") == 0);
  asm_free(&a, &m);
  CHECK_EQ(m.bytes, 0);
}

static void test_cap(void) {
  sk_mem m;
  assembler a = {0};
  uint32_t i;
  mem_init(&m, NULL, NULL);
  for (i = 0; i < 4; i++)
    CHECK_EQ(asm_add(&a, &m, 1000 + 100 * i, 1050 + 100 * i, 4), ASM_OK);
  CHECK_EQ(a.n, 4);
  /* a fifth hole is refused, and nothing changes */
  CHECK(!asm_fits(&a, 2000, 2010, 4));
  CHECK_EQ(asm_add(&a, &m, 2000, 2010, 4), ASM_FULL);
  CHECK_EQ(a.n, 4);
  /* but a range that merges two into one fits */
  CHECK(asm_fits(&a, 1040, 1110, 4));
  CHECK_EQ(asm_add(&a, &m, 1040, 1110, 4), ASM_OK);
  CHECK_EQ(a.n, 3);
  asm_free(&a, &m);
}

static void test_advance_and_wrap(void) {
  sk_mem m;
  assembler a = {0};
  uint32_t base = 0xffffff00u; /* the ranges straddle 2^32 */
  mem_init(&m, NULL, NULL);
  CHECK_EQ(asm_add(&a, &m, base + 0x80, base + 0x180, 8), ASM_OK);
  CHECK_EQ(asm_add(&a, &m, base + 0x200, base + 0x210, 8), ASM_OK);
  CHECK_EQ(a.r[0].hi, 0x80u);
  /* RCV.NXT reaches the first range: it is consumed */
  CHECK_EQ(asm_advance(&a, &m, base + 0x10), base + 0x10);
  CHECK_EQ(a.n, 2);
  CHECK_EQ(asm_advance(&a, &m, base + 0x80), base + 0x180);
  CHECK_EQ(a.n, 1);
  /* past a range's start but not its end: the end wins */
  CHECK_EQ(asm_advance(&a, &m, base + 0x205), base + 0x210);
  CHECK_EQ(a.n, 0);
  CHECK_EQ(m.bytes, 0); /* emptied: the storage is released */
}

/* Random ranges against a bitmap: the set always says what the bitmap
 * says. */
static void test_random(void) {
  enum { SPAN = 2000 };
  static uint8_t have[SPAN];
  sk_mem m;
  assembler a = {0};
  int round, i;
  mem_init(&m, NULL, NULL);
  srand(7);
  for (round = 0; round < 20000; round++) {
    uint32_t lo = (uint32_t)(rand() % SPAN), len = (uint32_t)(rand() % 50);
    uint32_t hi = lo + len > SPAN ? SPAN : lo + len, bytes = 0, k;
    if (asm_add(&a, &m, lo, hi, 255) == ASM_OK)
      for (k = lo; k < hi; k++)
        have[k] = 1;
    for (i = 0; i < SPAN; i++)
      bytes += have[i];
    CHECK_EQ(asm_bytes(&a), bytes);
    for (k = 1; k < a.n; k++) /* sorted, disjoint, not touching */
      CHECK(a.r[k - 1].hi < a.r[k].lo);
    if (round % 1000 == 999) {
      asm_free(&a, &m);
      memset(have, 0, sizeof have);
    }
  }
  asm_free(&a, &m);
}

int main(void) {
  test_merge();
  test_cap();
  test_advance_and_wrap();
  test_random();
  return check_done("test_assembler");
}
