/* test_ring.c — the byte ring: wrap-around, growth, cap, release. */
#include <string.h>

#include "../tcp/ring.h"
#include "check.h"

int main(void) {
  sk_mem m;
  ring r;
  uint8_t in[10000], out[10000];
  uint32_t i, n;
  mem_init(&m, NULL, NULL);
  memset(&r, 0, sizeof r);
  for (i = 0; i < sizeof in; i++)
    in[i] = (uint8_t)(i * 7 + 3);

  /* nothing is allocated until the first byte */
  CHECK_EQ(m.bytes, 0);
  CHECK_EQ(ring_write(&r, &m, in, 100, 5000), 100);
  CHECK(m.bytes >= 100);
  /* wrap-around: read some, write more than the rest of the buffer */
  CHECK_EQ(ring_read(&r, &m, out, 60), 60);
  CHECK(memcmp(out, in, 60) == 0);
  n = r.size - r.len + 50; /* forces a wrap, and growth */
  CHECK_EQ(ring_write(&r, &m, in + 100, n, 100000), n);
  CHECK_EQ(r.len, 40 + n);
  ring_peek(&r, 10, out, 30);
  CHECK(memcmp(out, in + 70, 30) == 0);
  CHECK_EQ(ring_read(&r, &m, out, 40 + n), 40 + n);
  CHECK(memcmp(out, in + 60, 40 + n) == 0);
  /* empty: the storage is released (to the buffer cache) */
  CHECK_EQ(r.len, 0);
  CHECK(r.buf == NULL);
  CHECK_EQ(m.bytes - m.cached, 0);

  /* the cap: never more than `cap` bytes held */
  CHECK_EQ(ring_write(&r, &m, in, 3000, 2500), 2500);
  CHECK_EQ(ring_write(&r, &m, in, 10, 2500), 0);
  CHECK_EQ(ring_read(&r, &m, NULL, 500), 500); /* drop without copying */
  CHECK_EQ(ring_write(&r, &m, in, 1000, 2500), 500);
  ring_peek(&r, 2000, out, 500);
  CHECK(memcmp(out, in, 500) == 0);
  /* peeking across the physical end of the buffer */
  for (i = 0; i < 50; i++) {
    uint8_t a[333], b[333];
    CHECK_EQ(ring_read(&r, &m, a, 333), 333);
    ring_write(&r, &m, a, 333, 2500);
    ring_peek(&r, r.len - 333, b, 333);
    CHECK(memcmp(a, b, 333) == 0);
  }
  ring_free(&r, &m);
  CHECK_EQ(m.bytes - m.cached, 0); /* what is left is the buffer cache */

  /* out of order: bytes written beyond the in-order data survive growth
   * and reads, and join it when committed */
  CHECK_EQ(ring_write(&r, &m, in, 10, 100000), 10);
  CHECK_EQ(ring_write_at(&r, &m, 5000, in + 5000, 100, 100000), 100);
  CHECK_EQ(r.len, 10);
  CHECK_EQ(r.extent, 5100);
  CHECK_EQ(ring_read(&r, &m, out, 10), 10); /* in-order gone, not the rest */
  CHECK(r.buf != NULL);
  CHECK_EQ(ring_write_at(&r, &m, 0, in + 10, 4990, 100000), 4990);
  ring_commit(&r, 5090);
  CHECK_EQ(r.len, 5090);
  CHECK_EQ(ring_read(&r, &m, out, 5090), 5090);
  CHECK(memcmp(out, in + 10, 5090) == 0);
  CHECK_EQ(m.bytes - m.cached, 0);
  /* an emptied buffer is kept for the next of its size, and reused */
  CHECK(m.cached > 0);
  {
    uint64_t held = m.bytes;
    CHECK_EQ(ring_write(&r, &m, in, 3000, 100000), 3000);
    CHECK_EQ(m.bytes, held); /* from the cache, not the allocator */
    ring_free(&r, &m);
  }
  /* the front, read in place: up to the end of the buffer when the data
   * wraps, then the rest; nothing when empty */
  {
    const uint8_t *f;
    uint32_t k, k2;
    CHECK_EQ(ring_write(&r, &m, in, 1000, 100000), 1000);
    CHECK_EQ(ring_read(&r, &m, NULL, 900), 900);
    n = r.size - r.len - 10; /* wraps without growing */
    CHECK_EQ(ring_write(&r, &m, in + 1000, n, r.size), n);
    f = ring_front(&r, &k);
    CHECK(k < r.len && k == r.size - r.head);
    CHECK(memcmp(f, in + 900, k) == 0);
    CHECK_EQ(ring_read(&r, &m, NULL, k), k);
    f = ring_front(&r, &k2);
    CHECK_EQ(k2, r.len);
    CHECK(memcmp(f, in + 900 + k, k2) == 0);
    CHECK_EQ(ring_read(&r, &m, NULL, k2), k2);
    ring_front(&r, &k);
    CHECK_EQ(k, 0);
  }
  mem_cache_flush(&m);
  CHECK_EQ(m.bytes, 0);
  /* never past the cap */
  CHECK_EQ(ring_write_at(&r, &m, 90, in, 50, 100), 10);
  CHECK_EQ(ring_write_at(&r, &m, 100, in, 50, 100), 0);
  ring_free(&r, &m);
  return check_done("test_ring");
}
