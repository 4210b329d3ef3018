/*
 * timewait.h — compact TIME-WAIT entries.
 *
 * A connection entering TIME-WAIT gives up its control block and buffers;
 * what the 2 MSL wait needs (the 4-tuple, the sequence numbers and the
 * timestamp state, to answer correctly and to judge a new SYN by RFC 6191)
 * fits in one small entry.  Entries live in chunks of a pool, addressed by
 * 32-bit indices; a keyed 4-tuple hash finds them and per-duration FIFOs
 * expire them, both in O(1): every entry of one FIFO lasts as long, so the
 * oldest is always first.
 */
#ifndef SK_TIMEWAIT_H
#define SK_TIMEWAIT_H

#include <stdint.h>

#include "htab.h"
#include "mem.h"

typedef struct tw_entry { /* 44 bytes */
  uint32_t expires;       /* milliseconds of the stack's clock, wrapping */
  uint32_t raddr;
  uint32_t snd_nxt;    /* ours, past our FIN */
  uint32_t rcv_nxt;    /* past the peer's FIN */
  uint32_t ts_recent;  /* the peer's last timestamp (RFC 6191, PAWS) */
  uint32_t hnext;      /* 4-tuple chain (index; 0: none) */
  uint32_t prev, next; /* its FIFO */
  uint32_t husk;       /* the owner's handle, if still held (husks[husk-1]) */
  uint16_t rport, lport;
  uint16_t win;  /* the window field our ACKs carry */
  uint8_t list;  /* which FIFO */
  uint8_t flags; /* TWF_TS, and our window scale in the high 4 bits */
} tw_entry;

enum { TWF_TS = 1 }; /* timestamps were in use */

typedef struct tw_list {
  uint32_t duration; /* 2 MSL, in milliseconds */
  uint32_t head, tail;
} tw_list;

#define TW_CHUNK 1024

typedef struct tw_table {
  tw_entry **chunks;
  uint32_t nchunks;
  uint32_t free; /* free list through `next` */
  uint32_t count;
  htab hash; /* buckets: uint32_t, the first entry of a chain */
  tw_list *lists;
  uint8_t nlists;
  struct sk_conn **husks; /* handles still held for entries */
  uint32_t nhusks, husks_size;
  uint64_t now; /* the latest `now` seen: it places the ms clock */
} tw_table;

#endif
