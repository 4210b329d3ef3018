/* assembler.c — the set of byte ranges received ahead of RCV.NXT. */
#include "assembler.h"

#include <string.h>

#include "seq.h"

/* The first range that ends at or after lo (so overlaps or touches it). */
static unsigned first_touching(const assembler *a, uint32_t lo) {
  unsigned i = 0;
  while (i < a->n && seq_lt(a->r[i].hi, lo))
    i++;
  return i;
}

/* The first range that starts after hi (so neither overlaps nor touches). */
static unsigned first_after(const assembler *a, unsigned from, uint32_t hi) {
  unsigned j = from;
  while (j < a->n && seq_leq(a->r[j].lo, hi))
    j++;
  return j;
}

int asm_fits(const assembler *a, uint32_t lo, uint32_t hi, unsigned max) {
  unsigned i = first_touching(a, lo), j = first_after(a, i, hi);
  return a->n - (j - i) + 1 <= max;
}

int asm_add(assembler *a, sk_mem *m, uint32_t lo, uint32_t hi, unsigned max) {
  unsigned i, j, n;
  if (!seq_lt(lo, hi))
    return ASM_OK;
  i = first_touching(a, lo);
  j = first_after(a, i, hi);
  n = a->n - (j - i) + 1;
  if (n > max)
    return ASM_FULL;
  if (n > a->size) {
    unsigned size = a->size ? a->size * 2u : 4u;
    asm_range *r;
    if (size > max)
      size = max;
    if (size > 255)
      size = 255;
    r = mem_realloc(m, a->r, a->size * sizeof *r, size * sizeof *r);
    if (!r)
      return ASM_NOMEM;
    a->r = r;
    a->size = (uint8_t)size;
  }
  if (j > i) { /* merge with ranges i .. j-1 */
    if (seq_lt(a->r[i].lo, lo))
      lo = a->r[i].lo;
    if (seq_gt(a->r[j - 1].hi, hi))
      hi = a->r[j - 1].hi;
  }
  memmove(a->r + i + 1, a->r + j, (a->n - j) * sizeof *a->r);
  a->r[i].lo = lo;
  a->r[i].hi = hi;
  a->n = (uint8_t)n;
  return ASM_OK;
}

uint32_t asm_advance(assembler *a, sk_mem *m, uint32_t seq) {
  unsigned k = 0;
  while (k < a->n && seq_leq(a->r[k].lo, seq)) {
    if (seq_gt(a->r[k].hi, seq))
      seq = a->r[k].hi;
    k++;
  }
  if (k) {
    memmove(a->r, a->r + k, (a->n - k) * sizeof *a->r);
    a->n = (uint8_t)(a->n - k);
  }
  if (a->n == 0) /* an idle connection holds no ranges */
    asm_free(a, m);
  return seq;
}

void asm_gaps(const assembler *a, uint32_t lo, uint32_t hi,
              void (*fn)(void *ctx, uint32_t lo, uint32_t hi), void *ctx) {
  unsigned i;
  for (i = 0; i < a->n && seq_lt(lo, hi); i++) {
    const asm_range *r = &a->r[i];
    if (seq_leq(r->hi, lo))
      continue;
    if (seq_geq(r->lo, hi))
      break;
    if (seq_lt(lo, r->lo))
      fn(ctx, lo, r->lo);
    lo = r->hi;
  }
  if (seq_lt(lo, hi))
    fn(ctx, lo, hi);
}

uint32_t asm_bytes(const assembler *a) {
  uint32_t n = 0;
  unsigned i;
  for (i = 0; i < a->n; i++)
    n += a->r[i].hi - a->r[i].lo;
  return n;
}

void asm_free(assembler *a, sk_mem *m) {
  mem_free(m, a->r, a->size * sizeof *a->r);
  a->r = NULL;
  a->n = a->size = 0;
}
