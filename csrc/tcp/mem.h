/*
 * mem.h — the stack's counted allocator.
 *
 * Every byte a stack holds is allocated through here, so stats().memory is
 * exact and benchmarks read bytes per connection from the allocator's own
 * accounting instead of guessing from RSS.
 */
#ifndef SK_MEM_H
#define SK_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "../synack.h"

typedef struct sk_mem {
  sk_alloc_fn fn;
  void *ud;
  uint64_t bytes;    /* held now */
  uint64_t failures; /* refused requests */
} sk_mem;

void mem_init(sk_mem *m, sk_alloc_fn fn, void *ud);
void *mem_alloc(sk_mem *m, size_t n);  /* NULL on failure */
void *mem_calloc(sk_mem *m, size_t n); /* zeroed */
void *mem_realloc(sk_mem *m, void *p, size_t o, size_t n);
void mem_free(sk_mem *m, void *p, size_t n);

#endif
