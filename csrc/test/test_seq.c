/* test_seq.c — sequence arithmetic modulo 2^32 (RFC 9293 §3.4). */
#include "../tcp/seq.h"
#include "check.h"

int main(void) {
  /* plain order */
  CHECK(seq_lt(1, 2));
  CHECK(!seq_lt(2, 1));
  CHECK(!seq_lt(5, 5));
  CHECK(seq_leq(5, 5));
  CHECK(seq_gt(2, 1));
  CHECK(seq_geq(7, 7));
  /* across the wrap: 0xffffffff comes just before 0 */
  CHECK(seq_lt(0xffffffffu, 0));
  CHECK(seq_gt(0, 0xffffffffu));
  CHECK(seq_lt(0xfffffff0u, 0x10));
  CHECK(seq_diff(0x10, 0xfffffff0u) == 0x20);
  CHECK(seq_diff(0xfffffff0u, 0x10) == -0x20);
  /* half the space away is "after" by the sign of the difference */
  CHECK(seq_lt(0, 0x7fffffffu));
  CHECK(seq_gt(0, 0x80000001u));
  /* windows: [lo, hi) and [lo, hi] wrapping */
  CHECK(seq_in(0xfffffffeu, 0xfffffffdu, 5));
  CHECK(seq_in(2, 0xfffffffdu, 5));
  CHECK(!seq_in(5, 0xfffffffdu, 5));
  CHECK(!seq_in(0xfffffffcu, 0xfffffffdu, 5));
  CHECK(!seq_in(7, 7, 7)); /* an empty window holds nothing */
  CHECK(seq_between(5, 0xfffffffdu, 5));
  CHECK(seq_between(0xfffffffdu, 0xfffffffdu, 5));
  CHECK(!seq_between(6, 0xfffffffdu, 5));
  CHECK(seq_between(9, 9, 9));
  CHECK_EQ(seq_max(0xffffffffu, 3), 3);
  CHECK_EQ(seq_min(0xffffffffu, 3), 0xffffffffu);
  return check_done("test_seq");
}
