/*
 * siphash.c — SipHash-2-4 as the paper specifies it: the message is read
 * as little-endian 64-bit words, each mixed in with two rounds; the last
 * word carries the leftover bytes and the length modulo 256 in its top
 * byte; four rounds finalize.
 */
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3)                                               \
  do {                                                                         \
    v0 += v1;                                                                  \
    v1 = ROTL(v1, 13);                                                         \
    v1 ^= v0;                                                                  \
    v0 = ROTL(v0, 32);                                                         \
    v2 += v3;                                                                  \
    v3 = ROTL(v3, 16);                                                         \
    v3 ^= v2;                                                                  \
    v0 += v3;                                                                  \
    v3 = ROTL(v3, 21);                                                         \
    v3 ^= v0;                                                                  \
    v2 += v1;                                                                  \
    v1 = ROTL(v1, 17);                                                         \
    v1 ^= v2;                                                                  \
    v2 = ROTL(v2, 32);                                                         \
  } while (0)

static uint64_t load_le(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  while (n--)
    v = v << 8 | p[n];
  return v;
}

void sipkey_from_bytes(sipkey *k, const uint8_t bytes[16]) {
  k->k0 = load_le(bytes, 8);
  k->k1 = load_le(bytes + 8, 8);
}

uint64_t siphash24(const sipkey *k, const void *msg, size_t n) {
  const uint8_t *p = msg;
  uint64_t v0 =
      k->k0 ^ 0x736f6d6570736575ull; /* "somepseudorandomlygeneratedbytes" */
  uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
  uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
  uint64_t v3 = k->k1 ^ 0x7465646279746573ull;
  uint64_t m;
  size_t left = n;
  for (; left >= 8; p += 8, left -= 8) {
    m = load_le(p, 8);
    v3 ^= m;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= m;
  }
  m = load_le(p, left) | (uint64_t)(n & 0xff) << 56;
  v3 ^= m;
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  v0 ^= m;
  v2 ^= 0xff;
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}
