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

#define MEM_CACHE_SLOTS 8          /* buffers kept for reuse, at most */
#define MEM_CACHE_BYTES (8u << 20) /* and their bytes, at most */
#define MEM_CACHE_MIN 4096         /* smaller ones go back at once */

typedef struct sk_mem {
  sk_alloc_fn fn;
  void *ud;
  uint64_t bytes;    /* held now, the buffer cache included */
  uint64_t failures; /* refused requests */
  struct {
    void *p;
    size_t n;
  } cache[MEM_CACHE_SLOTS]; /* freed buffers, for the next of their size */
  size_t cached;            /* their bytes */
} sk_mem;

void mem_init(sk_mem *m, sk_alloc_fn fn, void *ud);
void *mem_alloc(sk_mem *m, size_t n);  /* NULL on failure */
void *mem_calloc(sk_mem *m, size_t n); /* zeroed */
void *mem_realloc(sk_mem *m, void *p, size_t o, size_t n);
void mem_free(sk_mem *m, void *p, size_t n);
/* Buffers (rings): a freed one is kept for the next request of its exact
 * size, so a connection that fills and empties its buffers over and over
 * does not go to the system allocator each time. */
void *mem_alloc_buf(sk_mem *m, size_t n);
void mem_free_buf(sk_mem *m, void *p, size_t n);
void mem_cache_flush(sk_mem *m);

#endif
