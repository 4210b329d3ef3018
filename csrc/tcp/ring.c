/* ring.c — a byte ring that grows on demand up to a cap. */
#include "ring.h"

#include <string.h>

#define RING_MIN 2048u

static int ring_grow(ring *r, sk_mem *m, uint32_t need, uint32_t cap) {
  uint32_t size = r->size ? r->size : RING_MIN;
  uint8_t *nb;
  while (size < need)
    size = size > UINT32_MAX / 2 ? UINT32_MAX : size * 2;
  if (size > cap)
    size = cap < need ? need : cap;
  nb = mem_alloc_buf(m, size);
  if (!nb)
    return 0;
  if (r->extent)
    ring_peek(r, 0, nb, r->extent);
  mem_free_buf(m, r->buf, r->size);
  r->buf = nb;
  r->size = size;
  r->head = 0;
  return 1;
}

/* Copies n bytes in at logical offset off; the room must be there. */
static void put(ring *r, uint32_t off, const void *p, uint32_t n) {
  uint32_t at = r->head + off, first;
  if (n == 0)
    return;
  if (at >= r->size)
    at -= r->size;
  first = r->size - at < n ? r->size - at : n;
  memcpy(r->buf + at, p, first);
  memcpy(r->buf, (const uint8_t *)p + first, n - first);
}

uint32_t ring_write_at(ring *r, sk_mem *m, uint32_t off, const void *p,
                       uint32_t n, uint32_t cap) {
  if (off >= cap)
    return 0;
  if (n > cap - off)
    n = cap - off;
  if (n == 0)
    return 0;
  if (off + n > r->size && !ring_grow(r, m, off + n, cap))
    return 0;
  put(r, off, p, n);
  if (off + n > r->extent)
    r->extent = off + n;
  return n;
}

uint32_t ring_write(ring *r, sk_mem *m, const void *p, uint32_t n,
                    uint32_t cap) {
  n = ring_write_at(r, m, r->len, p, n, cap);
  r->len += n;
  return n;
}

void ring_commit(ring *r, uint32_t n) {
  r->len += n;
  if (r->len > r->extent)
    r->extent = r->len;
}

void ring_peek(const ring *r, uint32_t off, void *p, uint32_t n) {
  uint32_t at = r->head + off, first;
  if (n == 0)
    return;
  if (at >= r->size)
    at -= r->size;
  first = r->size - at < n ? r->size - at : n;
  memcpy(p, r->buf + at, first);
  memcpy((uint8_t *)p + first, r->buf, n - first);
}

const uint8_t *ring_front(const ring *r, uint32_t *n) {
  if (!r->len) { /* buf may be NULL: no pointer arithmetic on it */
    *n = 0;
    return NULL;
  }
  *n = r->size - r->head < r->len ? r->size - r->head : r->len;
  return r->buf + r->head;
}

uint32_t ring_read(ring *r, sk_mem *m, void *p, uint32_t n) {
  if (n > r->len)
    n = r->len;
  if (n == 0)
    return 0;
  if (p)
    ring_peek(r, 0, p, n);
  r->head += n;
  if (r->head >= r->size)
    r->head -= r->size;
  r->len -= n;
  r->extent -= n;
  if (r->extent == 0)
    ring_free(r, m);
  return n;
}

void ring_free(ring *r, sk_mem *m) {
  mem_free_buf(m, r->buf, r->size);
  r->buf = NULL;
  r->size = r->head = r->len = r->extent = 0;
}
