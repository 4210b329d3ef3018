/*
 * isn.c — initial sequence numbers.
 *
 * For now every ISN comes from a keyed permutation of a per-stack counter:
 * distinct for 2^32 connections, reproducible from the secret, and never 0.
 * RFC 6528 (a clock plus a keyed hash of the 4-tuple) replaces it with the
 * security work.
 */
#include "stack.h"

/* A bijection on 32 bits: xor-shifts and odd multipliers are each
 * invertible, so distinct counters give distinct outputs. */
static uint32_t permute32(uint32_t x, uint32_t key) {
  x ^= key;
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

uint32_t isn_next(sk_stack *s) {
  const uint8_t *k = s->cfg.secret;
  uint32_t key = (uint32_t)k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 |
                 (uint32_t)k[3] << 24;
  uint32_t isn;
  do /* 0 is skipped so that "seq 0" in a trace is never a real ISN */
    isn = permute32(s->isn_count++, key);
  while (isn == 0);
  return isn;
}
