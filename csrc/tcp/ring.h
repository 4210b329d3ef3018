/*
 * ring.h — a byte ring that grows on demand up to a cap.
 *
 * Send data lives here from write() until it is acknowledged; receive data
 * from arrival until read().  Storage is allocated when the first byte
 * arrives and released when the ring empties, so an idle connection holds
 * none (DESIGN.md, Memory).
 */
#ifndef SK_RING_H
#define SK_RING_H

#include <stdint.h>

#include "mem.h"

typedef struct ring {
  uint8_t *buf;
  uint32_t size; /* bytes allocated */
  uint32_t head; /* index of the first byte */
  uint32_t len;  /* bytes held */
} ring;

/* Appends up to n bytes, never holding more than `cap`; returns how many
 * were taken (fewer when full or when memory is refused). */
uint32_t ring_write(ring *r, sk_mem *m, const void *p, uint32_t n,
                    uint32_t cap);
/* Copies n bytes starting `off` bytes after the head, without consuming. */
void ring_peek(const ring *r, uint32_t off, void *p, uint32_t n);
/* Removes up to n bytes from the head, copying them out when p is set. */
uint32_t ring_read(ring *r, sk_mem *m, void *p, uint32_t n);
void ring_free(ring *r, sk_mem *m);

#endif
