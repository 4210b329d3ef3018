/*
 * synack.h — the public C API of synack, a sans-IO TCP/IPv4 stack.
 *
 * The core never reads a clock, a socket or a random device: every entry
 * point takes `now` (monotonic microseconds), every packet leaves through
 * the output callback given at creation, and randomness comes from the
 * secret in the configuration.  Events (connected, readable, ...) are
 * queued inside the stack and delivered by sk_stack_dispatch(), never from
 * inside input processing, so a callback may call back into the stack.
 */
#ifndef SYNACK_H
#define SYNACK_H

#include <stddef.h>
#include <stdint.h>

#define SK_VERSION "0.1.0"

#define SK_NEVER UINT64_MAX /* a deadline that never comes */
#define SK_USEC(s) ((uint64_t)((s)*1000000.0))

typedef struct sk_stack sk_stack;
typedef struct sk_conn sk_conn;
typedef struct sk_listener sk_listener;

/* ---- errors -------------------------------------------------------------- */

/* Error names and their sentences: one list feeds the enum, sk_errname()
 * and sk_strerror(). */
#define SK_ERRORS(X)                                                           \
  X(ECONNREFUSED,                                                              \
    "connection refused: the peer answered the SYN with a reset")              \
  X(ECONNRESET, "connection reset by the peer")                                \
  X(ETIMEDOUT, "connection timed out: the peer stopped answering")             \
  X(ECONNABORTED, "connection aborted by this side")                           \
  X(EADDRINUSE, "address already in use")                                      \
  X(EADDRNOTAVAIL, "no local port is free for this destination")               \
  X(ENOBUFS, "no buffer space available")                                      \
  X(EPIPE, "cannot write: this side has shut down or closed the connection")   \
  X(EPERM, "operation not permitted: run as root or with CAP_NET_ADMIN")       \
  X(EINVAL, "invalid argument")                                                \
  X(ENOTCONN, "the connection is not open")                                    \
  X(ENOMEM, "out of memory")                                                   \
  X(EOF, "end of stream: the peer has closed its side")                        \
  X(EHOSTUNREACH, "no route to host: an ICMP error said it cannot be reached") \
  X(ENETUNREACH, "network unreachable: an ICMP error said so")

enum sk_errindex_ {
  SK_ERRINDEX_NONE_,
#define SK_X_(n, s) SK_ERRINDEX_##n##_,
  SK_ERRORS(SK_X_)
#undef SK_X_
      SK_ERRINDEX_COUNT_
};

/* Errors are negative: SK_ECONNREFUSED == -1, ... */
enum sk_err {
  SK_OK = 0,
#define SK_X_(n, s) SK_##n = -SK_ERRINDEX_##n##_,
  SK_ERRORS(SK_X_)
#undef SK_X_
};

const char *sk_errname(int err); /* "ECONNREFUSED"; NULL for unknown codes */
const char *sk_strerror(int err);
int sk_errcode(const char *name); /* inverse of sk_errname; SK_OK if unknown */

/* ---- states (RFC 9293 §3.3.2) -------------------------------------------- */

#define SK_STATES(X)                                                           \
  X(CLOSED, "CLOSED")                                                          \
  X(LISTEN, "LISTEN")                                                          \
  X(SYN_SENT, "SYN-SENT")                                                      \
  X(SYN_RECEIVED, "SYN-RECEIVED")                                              \
  X(ESTABLISHED, "ESTABLISHED")                                                \
  X(FIN_WAIT_1, "FIN-WAIT-1")                                                  \
  X(FIN_WAIT_2, "FIN-WAIT-2")                                                  \
  X(CLOSE_WAIT, "CLOSE-WAIT")                                                  \
  X(CLOSING, "CLOSING")                                                        \
  X(LAST_ACK, "LAST-ACK")                                                      \
  X(TIME_WAIT, "TIME-WAIT")

enum sk_state {
#define SK_X_(n, s) SK_##n,
  SK_STATES(SK_X_)
#undef SK_X_
      SK_STATE_COUNT
};

const char *sk_state_name(int state);

/* ---- counters ------------------------------------------------------------ */

/* Every counter of stats(): name and meaning.  Running totals unless the
 * list of gauges below names them. */
#define SK_COUNTERS(X)                                                         \
  X(segments_in, "TCP segments received and accepted by the parser")           \
  X(segments_out, "TCP segments sent")                                         \
  X(retransmits, "segments sent again (SYN, SYN-ACK, data, FIN)")              \
  X(bad_checksum, "packets dropped: IPv4 or TCP checksum wrong")               \
  X(malformed, "packets dropped: header lengths or fields impossible")         \
  X(not_for_us, "packets dropped: destination is not this stack")              \
  X(not_tcp, "packets dropped: not TCP")                                       \
  X(ip_fragments, "packets dropped: IPv4 fragments (no reassembly)")           \
  X(ip_source_route, "packets dropped: IPv4 source route option")              \
  X(bad_source, "packets dropped: broadcast, multicast or reserved source")    \
  X(land, "packets dropped: source address is this stack's own (LAND)")        \
  X(bad_flags,                                                                 \
    "segments dropped: SYN with FIN, or a flag that must be is not")           \
  X(syn_ignored, "SYNs on a connection, answered by a challenge ACK")          \
  X(bad_options, "segments with a malformed option (ignored from there on)")   \
  X(no_memory, "segments dropped: no memory for a new connection")             \
  X(rst_sent, "RST segments sent")                                             \
  X(rst_received, "RST segments that reset a connection")                      \
  X(rst_ignored, "RST segments dropped as unacceptable")                       \
  X(no_listener, "segments to a port with no connection and no listener")      \
  X(out_of_window, "segments dropped by the sequence number check")            \
  X(ack_unacceptable, "segments dropped: their ACK acknowledged nothing sent") \
  X(challenge_acks, "challenge ACKs sent (RFC 5961)")                          \
  X(syncookies_sent, "SYN-ACKs sent carrying a SYN cookie")                    \
  X(syncookies_valid, "ACKs that carried a valid SYN cookie")                  \
  X(syncookies_invalid, "ACKs that carried an invalid SYN cookie")             \
  X(listen_overflows,                                                          \
    "SYNs and handshake ACKs dropped: a listener's queue full")                \
  X(ooo_segments, "segments that arrived ahead of RCV.NXT")                    \
  X(ooo_dropped, "out-of-order segments dropped")                              \
  X(sack_blocks_ignored, "SACK blocks outside the window or past the cap")     \
  X(conns_opened, "connections that reached ESTABLISHED")                      \
  X(conns_refused, "active opens answered by a RST (ECONNREFUSED)")            \
  X(conns_reset, "connections ended by a RST from the peer (ECONNRESET)")      \
  X(conns_timed_out, "connections ended by retransmission timeout")            \
  X(conns_aborted, "connections aborted by this side")                         \
  X(time_wait_reused, "TIME-WAIT 4-tuples reopened by a new SYN")              \
  X(time_wait_overflow, "closing connections that skipped TIME-WAIT (cap)")    \
  X(paws_drops, "segments dropped by PAWS (RFC 7323 §5)")                      \
  X(ts_missing, "segments dropped: no timestamp after RFC 7323 negotiation")   \
  X(challenge_acks_limited, "challenge ACKs not sent: per-connection limit")   \
  X(oow_acks_limited, "ACKs to out-of-window bare ACKs not sent: rate limit")  \
  X(fast_retransmits, "segments resent on three duplicate ACKs (RFC 5681)")    \
  X(timeouts, "retransmission timer expirations")                              \
  X(window_probes, "zero-window probes sent (RFC 9293 §3.8.6.1)")              \
  X(keepalive_probes, "keep-alive probes sent (RFC 1122 §4.2.3.6)")            \
  X(abort_on_close, "RSTs for close() with unread data (RFC 2525 §2.17)")      \
  X(abort_on_data, "RSTs for data arriving after close()")                     \
  X(icmp_echo, "ICMP echo requests answered (RFC 1122 §3.2.2.6)")              \
  X(icmp_errors, "ICMP errors applied to a connection (RFC 1122 §4.2.3.9)")    \
  X(icmp_ignored, "ICMP errors ignored: no such connection or not in flight")  \
  X(alloc_failures, "allocations the allocator refused")

/* Current values rather than running totals. */
#define SK_GAUGES(X)                                                           \
  X(time_wait, "connections in TIME-WAIT now")                                 \
  X(memory, "bytes this stack holds now, by its allocator's accounting")

/* Why a packet or segment was refused: the reason's name, and the counter
 * above that it adds to.  stats() counts each reason too, and a tracing
 * stack sees an SK_DIR_DROP record with it after the packet's SK_DIR_IN. */
#define SK_DROPS(X)                                                            \
  X(IP_HEADER, "bad IPv4 header", malformed)                                   \
  X(IP_LENGTH, "bad IPv4 length", malformed)                                   \
  X(IP_OPTIONS, "bad IPv4 options", malformed)                                 \
  X(IP_CHECKSUM, "bad IPv4 checksum", bad_checksum)                            \
  X(FRAGMENT, "IPv4 fragment", ip_fragments)                                   \
  X(SOURCE_ROUTE, "source route", ip_source_route)                             \
  X(NOT_TCP, "not TCP", not_tcp)                                               \
  X(TCP_HEADER, "bad TCP header", malformed)                                   \
  X(BAD_CHECKSUM, "bad checksum", bad_checksum)                                \
  X(NOT_FOR_US, "not for us", not_for_us)                                      \
  X(BAD_SOURCE, "bad source address", bad_source)                              \
  X(LAND, "source is us", land)                                                \
  X(SYN_FIN, "SYN with FIN", bad_flags)                                        \
  X(NO_ACK, "no ACK", bad_flags)                                               \
  X(NO_SYN, "no SYN", bad_flags)                                               \
  X(SYN_ON_CONN, "SYN on a connection", syn_ignored)                           \
  X(OLD_SYN, "old duplicate SYN", syn_ignored)                                 \
  X(NO_LISTENER, "no listener", no_listener)                                   \
  X(LISTEN_RST, "RST to a listener", rst_ignored)                              \
  X(LISTEN_ACK, "ACK to a listener", ack_unacceptable)                         \
  X(BACKLOG_FULL, "backlog full", listen_overflows)                            \
  X(ACCEPT_QUEUE_FULL, "accept queue full", listen_overflows)                  \
  X(NO_MEMORY, "no memory", no_memory)                                         \
  X(COOKIE_MISMATCH, "cookie mismatch", syncookies_invalid)                    \
  X(COOKIE_EXPIRED, "cookie expired", syncookies_invalid)                      \
  X(PAWS, "PAWS", paws_drops)                                                  \
  X(TS_MISSING, "timestamp missing", ts_missing)                               \
  X(OUT_OF_WINDOW, "out of window", out_of_window)                             \
  X(BAD_ACK, "unacceptable ACK", ack_unacceptable)                             \
  X(BAD_RST, "unacceptable RST", rst_ignored)                                  \
  X(RST_NOT_EXACT, "RST not at RCV.NXT", rst_ignored)                          \
  X(OOO_FULL, "out-of-order queue full", ooo_dropped)

enum sk_drop {
#define SK_X_(n, s, c) SK_DROP_##n,
  SK_DROPS(SK_X_)
#undef SK_X_
      SK_DROP_COUNT
};

const char *sk_drop_name(int reason); /* "cookie expired"; NULL if unknown */

typedef struct sk_stats {
#define SK_X_(n, d) uint64_t n;
  SK_COUNTERS(SK_X_)
  SK_GAUGES(SK_X_)
#undef SK_X_
  uint64_t drops[SK_DROP_COUNT]; /* by reason */
} sk_stats;

/* ---- configuration ------------------------------------------------------- */

/* The allocator has lua_Alloc's shape: nsize 0 frees, otherwise realloc. */
typedef void *(*sk_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* Parameters a connection can override (stack defaults, listen and
 * connect options).  Every connection keeps its own copy, so they are kept
 * small: durations are microseconds in 32 bits (at most about 71 minutes). */
typedef struct sk_params {
  uint32_t sndbuf;      /* send buffer cap, bytes */
  uint32_t rcvbuf;      /* receive buffer cap, bytes: the largest window */
  uint32_t rto_initial; /* RFC 6298 (2.1): 1 s */
  uint32_t rto_min;
  uint32_t rto_max;
  uint32_t delack;                 /* delayed-ACK timer (RFC 1122 §4.2.3.2) */
  uint32_t msl;                    /* TIME-WAIT lasts 2 * msl */
  uint32_t fin_timeout;            /* FIN-WAIT-2 after close(), as Linux's */
  uint32_t challenge_ack_interval; /* RFC 5961 §7, per connection */
  uint32_t keepalive_idle;         /* RFC 1122 §4.2.3.6; 0: off */
  uint32_t keepalive_interval;
  uint16_t mss;            /* MSS announced in our SYN (RFC 9293 §3.7.1) */
  uint8_t syn_retries;     /* SYN retransmissions before ETIMEDOUT */
  uint8_t synack_retries;  /* SYN-ACK retransmissions before giving up */
  uint8_t retries;         /* data retransmissions before ETIMEDOUT */
  uint8_t keepalive_count; /* unanswered probes before ETIMEDOUT */
  uint8_t max_ooo_holes;   /* out-of-order ranges held at most */
  int8_t wscale;           /* RFC 7323 shift offered, or SK_WSCALE_* */
  uint8_t timestamps;      /* RFC 7323 timestamps offered */
  uint8_t sack;            /* RFC 2018 SACK offered */
  uint8_t nodelay;         /* 1: no Nagle (RFC 896) */
} sk_params;

#define SK_WSCALE_OFF (-1)  /* no window scale option */
#define SK_WSCALE_AUTO (-2) /* the smallest shift that covers rcvbuf */

/* SYN cookies (RFC 4987 §3.6): when a listener answers a SYN with a
 * cookie instead of keeping a half-open connection. */
enum sk_syncookies {
  SK_SYNCOOKIES_DEFAULT, /* listen option: the stack's setting */
  SK_SYNCOOKIES_NEVER,   /* past max_syn_backlog, SYNs are dropped */
  SK_SYNCOOKIES_AUTO,    /* cookies while the SYN queue is full (Linux's 1) */
  SK_SYNCOOKIES_ALWAYS   /* every SYN gets a cookie (Linux's 2) */
};

typedef struct sk_config {
  uint32_t addr;             /* our IPv4 address, host byte order */
  uint8_t secret[16];        /* seeds ISNs, hashes and ports */
  uint16_t port_lo, port_hi; /* ephemeral port range, inclusive */
  uint32_t backlog;          /* default accept queue cap per listener */
  uint32_t max_syn_backlog;  /* half-open connections per listener */
  uint32_t max_time_wait;    /* TIME-WAIT entries; past it, none */
  uint8_t rfc1337;           /* RSTs do not end TIME-WAIT (RFC 1337) */
  uint8_t syncookies;        /* enum sk_syncookies; AUTO by default */
  uint8_t ttl;
  sk_params params;
  sk_alloc_fn alloc; /* NULL: malloc/realloc/free */
  void *alloc_ud;
} sk_config;

void sk_config_init(sk_config *cfg); /* defaults; addr and secret zero */
/* Fills buf from the kernel's CSPRNG (getrandom(2)): the secret of a live
 * stack.  SK_OK, or an error if the kernel has none. */
int sk_random(void *buf, size_t n);

/* ---- callbacks ----------------------------------------------------------- */

/* Packets leave the stack as complete IPv4 datagrams. */
typedef void (*sk_output_fn)(void *ctx, const uint8_t *pkt, size_t len);

enum sk_dir { SK_DIR_IN, SK_DIR_OUT, SK_DIR_DROP };
/* Sees every packet the stack receives (before validation) and sends.
 * When the stack refuses the packet it last received, a SK_DIR_DROP call
 * follows, with pkt NULL and len the reason (an sk_drop). */
typedef void (*sk_trace_fn)(void *ctx, uint64_t now, int dir,
                            const uint8_t *pkt, size_t len);

/* Events, delivered by sk_stack_dispatch() in this order per object. */
#define SK_EVENTS(X)                                                           \
  X(STATE, "state") /* arg: (old << 8) | new */                                \
  X(CONNECTED, "connect")                                                      \
  X(READABLE, "data")                                                          \
  X(WRITABLE, "drain")                                                         \
  X(PEER_FIN, "end")                                                           \
  X(CLOSED, "close")  /* arg: SK_OK or the error that ended it */              \
  X(ACCEPT, "accept") /* listeners: sk_listener_accept() has a conn */

enum sk_event {
#define SK_X_(n, s) SK_EV_##n,
  SK_EVENTS(SK_X_)
#undef SK_X_
      SK_EV_COUNT
};

typedef void (*sk_event_fn)(void *ud, int event, int arg);

/* ---- the stack ----------------------------------------------------------- */

sk_stack *sk_stack_new(const sk_config *cfg, sk_output_fn out, void *out_ctx);
void sk_stack_free(sk_stack *s); /* frees every conn and listener */
void sk_stack_input(sk_stack *s, uint64_t now, const uint8_t *pkt, size_t len);
void sk_stack_poll(sk_stack *s, uint64_t now); /* fire due timers */
uint64_t sk_stack_deadline(const sk_stack *s); /* SK_NEVER if none */
int sk_stack_dispatch(sk_stack *s);            /* deliver events; count */
int sk_stack_has_events(const sk_stack *s);
/* An ICMP error (type, code, and the ICMP header's second word) quoting
 * `inner`: the IPv4 header and at least 8 octets of TCP of a segment this
 * stack sent.  Returns 1 if it applied to a connection (RFC 1122
 * §4.2.3.9, RFC 5927), 0 if it was ignored. */
int sk_stack_icmp_error(sk_stack *s, uint64_t now, int type, int code,
                        uint32_t info, const uint8_t *inner, size_t len);
void sk_stack_set_trace(sk_stack *s, sk_trace_fn fn, void *ctx);
/* Sends a packet the caller built (a scanner's SYN, a test's odd segment)
 * out through the stack's output, as if the stack had sent it: the trace
 * sees it, no connection knows of it. */
void sk_stack_send_raw(sk_stack *s, uint64_t now, const uint8_t *pkt,
                       size_t len);
const sk_stats *sk_stack_stats(const sk_stack *s);
const sk_config *sk_stack_config(const sk_stack *s);

/* What connections() shows, one row per listener, conn or TIME-WAIT entry.
 * Durations are microseconds; windows and queues are bytes. */
typedef struct sk_info {
  int state;
  uint32_t local_addr, remote_addr;
  uint16_t local_port, remote_port;
  uint32_t iss, irs, snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
  uint32_t mss;
  int snd_wscale, rcv_wscale; /* -1: not negotiated */
  int sack, timestamps;
  uint64_t srtt, rttvar, rto;
  uint32_t cwnd, ssthresh;
  uint32_t retransmits; /* of this connection */
  uint32_t send_queue, recv_queue, ooo_bytes;
  uint32_t backlog, accept_queue, syn_queue; /* listeners */
  uint32_t max_syn_backlog;
  uint64_t expires_in; /* TIME-WAIT: time left */
} sk_info;

typedef void (*sk_visit_fn)(void *ctx, const sk_info *info);
void sk_stack_connections(const sk_stack *s, uint64_t now, sk_visit_fn fn,
                          void *ctx);

/* ---- listeners ----------------------------------------------------------- */

typedef struct sk_listen_opts {
  uint32_t backlog;         /* 0: the stack's */
  uint32_t max_syn_backlog; /* 0: the stack's */
  int syncookies;           /* enum sk_syncookies; 0: the stack's */
  const sk_params *params;  /* NULL: the stack's */
} sk_listen_opts;

sk_listener *sk_listen(sk_stack *s, uint16_t port, const sk_listen_opts *o,
                       int *err);
void sk_listener_set_callback(sk_listener *l, sk_event_fn fn, void *ud);
sk_conn *sk_listener_accept(sk_listener *l); /* NULL when none is queued */
void sk_listener_info(const sk_listener *l, sk_info *info);
/* Stops listening; queued, unaccepted connections are reset. */
void sk_listener_close(sk_listener *l, uint64_t now);

/* ---- connections --------------------------------------------------------- */

typedef struct sk_conn_opts {
  uint16_t local_port;     /* 0: an ephemeral port */
  const sk_params *params; /* NULL: the stack's */
} sk_conn_opts;

sk_conn *sk_connect(sk_stack *s, uint64_t now, uint32_t raddr, uint16_t rport,
                    const sk_conn_opts *o, int *err);
void sk_conn_set_callback(sk_conn *c, sk_event_fn fn, void *ud);
/* Queues what fits in the send buffer: bytes queued, 0 when full, or an
 * error (SK_EPIPE after shutdown, the close reason after close). */
ptrdiff_t sk_conn_write(sk_conn *c, uint64_t now, const void *p, size_t n);
/* Bytes read, 0 when nothing is buffered, SK_EOF after the peer's FIN,
 * or the error that ended the connection.  p NULL: the bytes are
 * consumed without being copied (after sk_conn_peek). */
ptrdiff_t sk_conn_read(sk_conn *c, uint64_t now, void *p, size_t n);
/* Read without a copy: the first received bytes that lie together in the
 * receive buffer (their count in *n; fewer than sk_conn_readable when
 * the buffer wraps, 0 when nothing is there), valid until the next call
 * on c.  Consume them with sk_conn_read(c, now, NULL, k). */
const void *sk_conn_peek(const sk_conn *c, size_t *n);
int sk_conn_shutdown(sk_conn *c, uint64_t now); /* FIN after queued data */
int sk_conn_close(sk_conn *c, uint64_t now);    /* graceful, like close(2) */
void sk_conn_abort(sk_conn *c, uint64_t now);   /* RST now */
/* The owner lets go of the handle (closing it first if it has not been
 * closed or aborted).  The stack keeps the connection as long as the
 * protocol needs it and frees it after; no more events arrive. */
void sk_conn_release(sk_conn *c, uint64_t now);
void sk_conn_info(const sk_conn *c, uint64_t now, sk_info *info);
size_t sk_conn_readable(const sk_conn *c); /* bytes a read would return */
int sk_conn_state(const sk_conn *c);
/* During a STATE event: when that change happened (it may be delivered
 * later, e.g. for a passive open, once the connection is accepted). */
uint64_t sk_conn_state_time(const sk_conn *c);
/* Asks for an event again (e.g. READABLE after a reader appears). */
void sk_conn_rearm(sk_conn *c, int event);

/* ---- the simulated network (csrc/drive/sim.c) ---------------------------- */

/* Virtual time: hosts addressed by IPv4 on one switch, packets in an event
 * heap ordered by (time, sequence), impairments drawn from a seeded PRNG.
 * The same seed gives the same packets at the same times, byte for byte. */
typedef struct sk_sim sk_sim;

/* Impairments of one direction of a link.  Probabilities are 0..1; each
 * random choice is drawn only when its probability is above 0, so adding a
 * zero impairment leaves a seed's trace as it was. */
typedef struct sk_link {
  uint64_t delay;   /* one-way, µs */
  uint64_t jitter;  /* extra delay, uniform in [0, jitter] µs (reorders) */
  double loss;      /* a packet is dropped */
  double duplicate; /* a packet arrives twice */
  double reorder;   /* a packet is held back by up to 2 x delay + 1 ms */
  double corrupt;   /* one bit of a packet is flipped */
  uint64_t rate;    /* bits per second; 0: no limit */
  uint32_t queue;   /* bytes a rate-limited link holds; more are dropped */
  uint32_t mtu;     /* larger packets are dropped (DF is set); 0: no limit */
} sk_link;

/* What happened to a packet, as the tap sees it. */
enum {
  SK_SIM_DROPPED = 1,   /* lost, too large, queue full, or no such host */
  SK_SIM_DUPLICATE = 2, /* the second copy of a duplicated packet */
  SK_SIM_CORRUPTED = 4, /* a bit was flipped on the way */
};

/* Sees every packet the switch carries, as it enters the switch (a
 * corrupted packet as it will arrive), with SK_SIM_* flags. */
typedef void (*sk_sim_tap_fn)(void *ctx, uint64_t now, const uint8_t *pkt,
                              size_t len, int flags);

sk_sim *sk_sim_new(uint64_t seed, const sk_link *defaults);
void sk_sim_free(sk_sim *sim); /* frees its stacks too */
uint64_t sk_sim_now(const sk_sim *sim);
uint64_t sk_sim_seed(const sk_sim *sim);
/* A host with a stack; cfg->addr is its address.  The stack belongs to the
 * sim (sk_sim_free frees it) unless removed with sk_sim_remove. */
sk_stack *sk_sim_add_stack(sk_sim *sim, const sk_config *cfg, int *err);
/* A host without a stack: packets for it wait in a queue of at most
 * `cap` packets (more are dropped and counted). */
int sk_sim_add_peer(sk_sim *sim, uint32_t addr, size_t cap);
void sk_sim_remove(sk_sim *sim, uint32_t addr); /* frees its stack */
int sk_sim_has_host(const sk_sim *sim, uint32_t addr);
/* Sets the impairments from `from` to `to` (0 for either: every host). */
int sk_sim_impair(sk_sim *sim, uint32_t from, uint32_t to, const sk_link *l);
/* The impairments a packet from `from` to `to` meets now. */
void sk_sim_get_link(const sk_sim *sim, uint32_t from, uint32_t to,
                     sk_link *out);
/* Puts a packet on the switch as if host `from` had sent it. */
void sk_sim_send(sk_sim *sim, uint32_t from, const uint8_t *pkt, size_t len);
/* The oldest packet queued for a peer: copies it (up to cap bytes) and
 * returns its length and arrival time, or 0 when none is queued. */
size_t sk_sim_peer_recv(sk_sim *sim, uint32_t addr, uint8_t *buf, size_t cap,
                        uint64_t *when);
size_t sk_sim_peer_queued(const sk_sim *sim, uint32_t addr);
uint64_t sk_sim_peer_dropped(const sk_sim *sim, uint32_t addr);
void sk_sim_set_tap(sk_sim *sim, sk_sim_tap_fn fn, void *ctx);
/* The time of the next event: a packet arriving or a stack's deadline. */
uint64_t sk_sim_next(const sk_sim *sim);
/* Runs the next event if it is due at or before `until` (time jumps to
 * it) and returns 1; else moves the clock to `until` (unless SK_NEVER) and
 * returns 0.  The caller dispatches the stacks' events after each step
 * (sk_sim_dispatch), so it knows when callbacks run. */
int sk_sim_step(sk_sim *sim, uint64_t until);
/* Delivers the queued events of every stack; returns how many. */
int sk_sim_dispatch(sk_sim *sim);
/* 16 secret bytes for the host at addr, derived from the seed. */
void sk_sim_secret(const sk_sim *sim, uint32_t addr, uint8_t out[16]);

#endif
