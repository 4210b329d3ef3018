/*
 * htab.h — the bucket array of a chained hash table that doubles a little
 * at a time.
 *
 * When the table grows, the old array stays beside the new one and every
 * later insert or removal moves a few of its buckets (old bucket b splits into
 * new buckets b and b + old size, as the hash bits say), so no insert rehashes
 * the whole table at once: the connection that doubled a table of 262,144
 * TIME-WAIT entries used to take ~15 ms; the slowest of 300,000 now takes ~1.5
 * ms, for other reasons (bench/synack_bench fin).  A chain lives in the old
 * array until its bucket has moved, in the new one after.  The chains (pointers
 * or indices) belong to the caller, which empties one old bucket when asked.
 * Both 4-tuple tables use it: connections (stack.c) and TIME-WAIT entries
 * (timewait.c).
 */
#ifndef SK_HTAB_H
#define SK_HTAB_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

typedef struct htab {
  void *cur;      /* n slots */
  void *old;      /* n / 2 slots while a move is under way, else NULL */
  uint32_t n;     /* a power of two, or 0 before the first grow */
  uint32_t moved; /* old slots emptied into cur so far */
} htab;

/* Empties one old slot: takes its chain and puts each entry into
 * htab_slot() of its hash (which is in the new array by then). */
typedef void (*htab_move_fn)(void *ctx, void *old_slot);

/* Old slots moved per insert: a few microseconds at most, and a move ends
 * long before the next doubling (n / 2 / HTAB_STEP inserts, against n or
 * more).  Fewer per insert cost more in all (bench fin: 8 made the moves
 * 8 % of the run, the misses no longer overlapping); 64 costs what one
 * whole rehash did. */
#define HTAB_STEP 64

/* The slot holding the chain of hash h, slots being `size` bytes. */
static inline void *htab_slot(const htab *t, uint32_t h, size_t size) {
  uint32_t half = t->n / 2;
  if (t->old && (h & (half - 1)) >= t->moved)
    return (char *)t->old + (size_t)(h & (half - 1)) * size;
  return (char *)t->cur + (size_t)(h & (t->n - 1)) * size;
}

/* Doubles (or makes `first` slots): the current array becomes the old
 * one, to be moved by htab_step.  A move still under way is finished
 * first.  Returns 0 when memory is refused: the table stays as it is,
 * with longer chains, still correct. */
int htab_grow(htab *t, sk_mem *m, size_t size, uint32_t first,
              htab_move_fn move, void *ctx);
/* Moves up to `budget` old slots; frees the old array when it is empty. */
void htab_step(htab *t, sk_mem *m, size_t size, uint32_t budget,
               htab_move_fn move, void *ctx);
void htab_free(htab *t, sk_mem *m, size_t size);

#endif
