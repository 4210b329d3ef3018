/* mem.c — the stack's counted allocator. */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

void mem_init(sk_mem *m, sk_alloc_fn fn, void *ud) {
  m->fn = fn ? fn : default_alloc;
  m->ud = ud;
  m->bytes = 0;
  m->failures = 0;
  memset(m->cache, 0, sizeof m->cache);
  m->cached = 0;
}

void *mem_realloc(sk_mem *m, void *p, size_t o, size_t n) {
  void *q;
  if (n == 0) {
    mem_free(m, p, o);
    return NULL;
  }
  q = m->fn(m->ud, p, p ? o : 0, n);
  if (!q) {
    m->failures++;
    return NULL;
  }
  m->bytes += n - (p ? o : 0);
  return q;
}

void *mem_alloc(sk_mem *m, size_t n) { return mem_realloc(m, NULL, 0, n); }

void *mem_calloc(sk_mem *m, size_t n) {
  void *p = mem_alloc(m, n);
  if (p)
    memset(p, 0, n);
  return p;
}

void *mem_alloc_buf(sk_mem *m, size_t n) {
  int i;
  for (i = 0; i < MEM_CACHE_SLOTS; i++)
    if (m->cache[i].p && m->cache[i].n == n) {
      void *p = m->cache[i].p;
      m->cache[i].p = NULL;
      m->cached -= n;
      return p; /* still counted in m->bytes */
    }
  return mem_alloc(m, n);
}

void mem_free_buf(sk_mem *m, void *p, size_t n) {
  int i;
  if (!p)
    return;
  if (n >= MEM_CACHE_MIN && m->cached + n <= MEM_CACHE_BYTES)
    for (i = 0; i < MEM_CACHE_SLOTS; i++)
      if (!m->cache[i].p) {
        m->cache[i].p = p;
        m->cache[i].n = n;
        m->cached += n;
        return;
      }
  mem_free(m, p, n);
}

void mem_cache_flush(sk_mem *m) {
  int i;
  for (i = 0; i < MEM_CACHE_SLOTS; i++)
    if (m->cache[i].p) {
      mem_free(m, m->cache[i].p, m->cache[i].n);
      m->cache[i].p = NULL;
    }
  m->cached = 0;
}

void mem_free(sk_mem *m, void *p, size_t n) {
  if (!p)
    return;
  m->fn(m->ud, p, n, 0);
  m->bytes -= n;
}
