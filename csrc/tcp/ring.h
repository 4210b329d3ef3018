/*
 * ring.h — a byte ring that grows on demand up to a cap.
 *
 * Send data lives here from write() until it is acknowledged; receive data
 * from arrival until read().  The first `len` bytes are the in-order data;
 * a receive ring may also hold out-of-order bytes further on, up to
 * `extent`, written in place with ring_write_at and made in-order with
 * ring_commit.  Storage is allocated when the first byte arrives and
 * released when the ring empties, so an idle connection holds none.
 */
#ifndef SK_RING_H
#define SK_RING_H

#include <stdint.h>

#include "mem.h"

typedef struct ring {
  uint8_t *buf;
  uint32_t size;   /* bytes allocated */
  uint32_t head;   /* index of the first byte */
  uint32_t len;    /* in-order bytes held */
  uint32_t extent; /* bytes from the head that may hold data, >= len */
} ring;

/* Appends up to n bytes, never holding more than `cap`; returns how many
 * were taken (fewer when full or when memory is refused). */
uint32_t ring_write(ring *r, sk_mem *m, const void *p, uint32_t n,
                    uint32_t cap);
/* Writes n bytes at `off` from the head (off >= len: beyond the in-order
 * data), within `cap`; returns how many were written. */
uint32_t ring_write_at(ring *r, sk_mem *m, uint32_t off, const void *p,
                       uint32_t n, uint32_t cap);
/* The n bytes after the in-order data are in place: they join it. */
void ring_commit(ring *r, uint32_t n);
/* Copies n bytes starting `off` bytes after the head, without consuming. */
void ring_peek(const ring *r, uint32_t off, void *p, uint32_t n);
/* The in-order bytes that lie together at the head, without copying:
 * their address, and their count in *n (fewer than len when they wrap);
 * NULL and 0 when there are none. */
const uint8_t *ring_front(const ring *r, uint32_t *n);
/* Removes up to n in-order bytes from the head, copying them out when p is
 * set. */
uint32_t ring_read(ring *r, sk_mem *m, void *p, uint32_t n);
void ring_free(ring *r, sk_mem *m);

#endif
