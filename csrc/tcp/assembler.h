/*
 * assembler.h — the set of byte ranges received ahead of RCV.NXT.
 *
 * Out-of-order data is written straight into its place in the receive
 * ring; this interval set only remembers which ranges are filled (the
 * shape of smoltcp's Assembler).  Ranges are sequence numbers [lo, hi),
 * sorted, disjoint and not touching; their number is capped, so a peer
 * cannot make it grow without bound.  SACK blocks come from it too.
 */
#ifndef SK_ASSEMBLER_H
#define SK_ASSEMBLER_H

#include <stdint.h>

#include "mem.h"

typedef struct asm_range {
  uint32_t lo, hi;
} asm_range;

typedef struct assembler {
  asm_range *r;
  uint8_t n, size; /* ranges held, allocated */
} assembler;

enum { ASM_OK = 0, ASM_FULL = -1, ASM_NOMEM = -2 };

/* 1 if adding [lo, hi) would leave at most `max` ranges. */
int asm_fits(const assembler *a, uint32_t lo, uint32_t hi, unsigned max);
/* Adds [lo, hi), merging with what it overlaps or touches. */
int asm_add(assembler *a, sk_mem *m, uint32_t lo, uint32_t hi, unsigned max);
/* RCV.NXT moved to `seq`: ranges that start at or before it are consumed;
 * returns the end of the in-order data, at least `seq`. */
uint32_t asm_advance(assembler *a, sk_mem *m, uint32_t seq);
/* Calls fn for every part of [lo, hi) that no range covers, in order. */
void asm_gaps(const assembler *a, uint32_t lo, uint32_t hi,
              void (*fn)(void *ctx, uint32_t lo, uint32_t hi), void *ctx);
uint32_t asm_bytes(const assembler *a);
void asm_free(assembler *a, sk_mem *m);

#endif
