/*
 * siphash.h — SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012): a keyed 64-bit hash that an attacker who does
 * not know the 128-bit key cannot predict.  ISNs (RFC 6528), SYN cookies,
 * timestamp offsets and ephemeral ports are all drawn from it.
 */
#ifndef SK_SIPHASH_H
#define SK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct sipkey {
  uint64_t k0, k1; /* the key's 16 bytes, read little-endian */
} sipkey;

void sipkey_from_bytes(sipkey *k, const uint8_t bytes[16]);
uint64_t siphash24(const sipkey *k, const void *msg, size_t n);

#endif
