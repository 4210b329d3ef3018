/*
 * htab.c — incremental doubling of a chained hash table's buckets (see
 * htab.h).
 */
#include "htab.h"

void htab_step(htab *t, sk_mem *m, size_t size, uint32_t budget,
               htab_move_fn move, void *ctx) {
  uint32_t half = t->n / 2;
  while (t->old && budget--) {
    /* counted as moved first, so that htab_slot sends its entries to
     * the new array while they are put back */
    uint32_t b = t->moved++;
    move(ctx, (char *)t->old + (size_t)b * size);
    if (t->moved == half) {
      mem_free(m, t->old, (size_t)half * size);
      t->old = NULL;
      t->moved = 0;
    }
  }
}

int htab_grow(htab *t, sk_mem *m, size_t size, uint32_t first,
              htab_move_fn move, void *ctx) {
  uint32_t n = t->n ? t->n * 2 : first;
  void *nb;
  htab_step(t, m, size, UINT32_MAX, move, ctx); /* finish the last one */
  if (!(nb = mem_calloc(m, (size_t)n * size)))
    return 0;
  if (t->n) {
    t->old = t->cur;
    t->moved = 0;
  }
  t->cur = nb;
  t->n = n;
  return 1;
}

void htab_free(htab *t, sk_mem *m, size_t size) {
  if (t->old)
    mem_free(m, t->old, (size_t)(t->n / 2) * size);
  mem_free(m, t->cur, (size_t)t->n * size);
  t->cur = t->old = NULL;
  t->n = t->moved = 0;
}
