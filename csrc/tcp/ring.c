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
  nb = mem_alloc(m, size);
  if (!nb)
    return 0;
  if (r->len)
    ring_peek(r, 0, nb, r->len);
  mem_free(m, r->buf, r->size);
  r->buf = nb;
  r->size = size;
  r->head = 0;
  return 1;
}

uint32_t ring_write(ring *r, sk_mem *m, const void *p, uint32_t n,
                    uint32_t cap) {
  uint32_t room = cap > r->len ? cap - r->len : 0, tail, first;
  if (n > room)
    n = room;
  if (n == 0)
    return 0;
  if (r->len + n > r->size && !ring_grow(r, m, r->len + n, cap))
    return 0;
  tail = r->head + r->len;
  if (tail >= r->size)
    tail -= r->size;
  first = r->size - tail < n ? r->size - tail : n;
  memcpy(r->buf + tail, p, first);
  memcpy(r->buf, (const uint8_t *)p + first, n - first);
  r->len += n;
  return n;
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
  if (r->len == 0)
    ring_free(r, m);
  return n;
}

void ring_free(ring *r, sk_mem *m) {
  mem_free(m, r->buf, r->size);
  r->buf = NULL;
  r->size = r->head = r->len = 0;
}
