/*
 * fuzz_stack.c — libFuzzer target for the whole core, with state.  A
 * stack at 10.0.0.2 listens on port 80 and has accepted one connection
 * from a peer at 10.0.0.9; the fuzz input is then a program of steps:
 * segments from the peer (any flags, sequence and acknowledgment numbers
 * near the ones the stack expects, any options, payload taken from the
 * peer's byte stream), raw packets, clock advances, SYNs and cookie ACKs
 * to the listener, an active open, and the application's write, read,
 * shutdown, close and abort.  After every step the invariants are
 * checked:
 *
 *   - every packet the stack sends parses, checksums included;
 *   - for every connection SND.UNA <= SND.NXT <= SND.MAX, the send queue
 *     within sndbuf, the receive queue within its cap (rcvbuf rounded up
 *     to the window scale), out-of-order ranges within max_ooo_holes, and
 *     a timer armed in SYN-RECEIVED;
 *   - the listener's SYN and accept queues within their caps and equal to
 *     the children that are really there; TIME-WAIT within its cap;
 *   - the bytes the application reads are a prefix of the peer's stream;
 *   - the stack's memory stays under a fixed cap.
 */
#include <stdlib.h>
#include <string.h>

#include "synack.h"
#include "tcp/tcb.h"

#define SRV 0x0a000002u
#define PEER 0x0a000009u
#define MEM_CAP (8u << 20)

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

typedef struct input {
  const uint8_t *p;
  size_t n;
} input;

static unsigned u8(input *in) {
  if (!in->n)
    return 0;
  in->n--;
  return *in->p++;
}
static unsigned u16(input *in) { /* two reads, in order */
  unsigned hi = u8(in);
  return hi << 8 | u8(in);
}
static uint32_t u32(input *in) {
  uint32_t hi = u16(in);
  return hi << 16 | u16(in);
}

/* The peer's byte stream: octet i of it, wherever it is sent. */
static uint8_t stream(uint32_t i) { return (uint8_t)((i * 2654435761u) >> 24); }

typedef struct world {
  sk_stack *s;
  sk_listener *l;
  sk_conn *conn, *active;
  uint64_t now;
  uint32_t peer_isn;  /* of the accepted connection */
  uint32_t read_off;  /* octets the application has read */
  uint32_t srv_ack;   /* the last ACK the stack sent on conn */
  uint32_t srv_nxt;   /* one past the highest octet it sent on conn */
  uint32_t srv_tsval; /* its last TSval on conn */
  tcp_seg last;       /* the last segment it sent, to anyone */
  uint8_t last_pkt[2048];
  int have_last;
  int adopted; /* the connection from port 40000 has been accepted */
} world;

static world w;

static void out(void *ctx, const uint8_t *pkt, size_t len) {
  tcp_seg seg;
  (void)ctx;
  REQUIRE(wire_parse(pkt, len, 1, &seg) == WIRE_OK);
  REQUIRE(seg.saddr == SRV);
  if (len <= sizeof w.last_pkt) { /* keep the bytes: seg points into them */
    memcpy(w.last_pkt, pkt, len);
    wire_parse(w.last_pkt, len, 0, &w.last);
    w.have_last = 1;
  }
  if (seg.daddr == PEER && seg.dport == 40000 && seg.sport == 80) {
    if (seg.flags & TCP_ACK)
      w.srv_ack = seg.ack;
    if (seq_gt(seg.seq + seg.len, w.srv_nxt))
      w.srv_nxt = seg.seq + seg.len;
    if (seg.opts.has & HAS_TS)
      w.srv_tsval = seg.opts.ts_val;
  }
}

static void on_conn(void *ud, int ev, int arg) {
  (void)ud;
  (void)ev;
  (void)arg;
}

static void on_listen(void *ud, int ev, int arg) {
  sk_conn *c;
  (void)ud;
  (void)ev;
  (void)arg;
  while ((c = sk_listener_accept(w.l)) != NULL) {
    if (!w.adopted && c->rport == 40000) { /* the first only: its ISN */
      w.conn = c;
      w.adopted = 1;
      sk_conn_set_callback(c, on_conn, NULL);
    } else
      sk_conn_release(c, w.now);
  }
}

/* A segment from the peer: the fields, a payload from its stream. */
static void peer_send(uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack,
                      uint16_t win, uint32_t len, const uint8_t *opts,
                      size_t optlen, uint32_t isn) {
  static uint8_t pkt[2048], payload[1500];
  tcp_seg s;
  uint32_t i;
  size_t n;
  memset(&s, 0, sizeof s);
  s.saddr = PEER;
  s.daddr = SRV;
  s.sport = sport;
  s.dport = 80;
  s.flags = flags;
  s.seq = seq;
  s.ack = ack;
  s.win = win;
  s.ttl = 64;
  if (len > sizeof payload)
    len = sizeof payload;
  for (i = 0; i < len; i++) /* the SYN takes sequence number isn */
    payload[i] = stream(seq + i - isn - 1);
  s.data = payload;
  s.len = len;
  if (optlen) {
    static uint8_t o[TCP_OPT_MAX];
    memset(o, 0, sizeof o);
    memcpy(o, opts, optlen);
    s.raw_opts = o;
    s.raw_opts_len = (uint8_t)((optlen + 3) & ~3u);
  }
  if ((n = wire_build(&s, 0, pkt, sizeof pkt)) != 0)
    sk_stack_input(w.s, w.now, pkt, n);
}

static void check_conn(const sk_conn *c) {
  if (c->state == SK_CLOSED || c->tw)
    return;
  REQUIRE(seq_leq(c->snd_una, c->snd_nxt));
  REQUIRE(seq_leq(c->snd_nxt, c->snd_max));
  REQUIRE(c->sndq.len <= c->prm->sndbuf);
  REQUIRE(c->rcvq.len <= rcv_cap(c));
  REQUIRE(c->ooo.n <= c->prm->max_ooo_holes);
  if (c->state == SK_SYN_RECEIVED)
    REQUIRE(c->deadline != SK_NEVER);
  if (c->state >= SK_ESTABLISHED)
    REQUIRE(seq_gt(c->rcv_nxt, c->irs));
}

static void check(void) {
  const sk_conn *c;
  uint32_t n = 0, syn = 0, queued = 0;
  for (c = w.s->all; c; c = c->anext, n++) {
    check_conn(c);
    if (c->listener == w.l) {
      if (c->flags & CF_ACCEPT_QUEUED)
        queued++;
      else
        syn++;
    }
  }
  REQUIRE(w.s->heap_len <= n);
  REQUIRE(w.l->syn_queue == syn && syn <= w.l->max_syn_backlog);
  REQUIRE(w.l->accept_len == queued && queued <= w.l->backlog);
  REQUIRE(w.s->tw.count <= w.s->cfg.max_time_wait);
  REQUIRE(sk_stack_stats(w.s)->memory < MEM_CAP);
}

static void app_read(void) {
  uint8_t buf[4096];
  ptrdiff_t r, i;
  if (!w.conn)
    return;
  while ((r = sk_conn_read(w.conn, w.now, buf, sizeof buf)) > 0)
    for (i = 0; i < r; i++)
      REQUIRE(buf[i] == stream(w.read_off++)); /* a prefix of the stream */
}

static void step(input *in) {
  unsigned op = u8(in) % 12;
  switch (op) {
  case 0: /* the clock moves; timers fire */
    w.now += (uint64_t)u16(in) * 1000;
    w.now += u8(in);
    sk_stack_poll(w.s, w.now);
    break;
  case 1:   /* a segment on the accepted connection, near the expected */
  case 2: { /* numbers; with case 2, good timestamps */
    uint8_t flags = (uint8_t)u8(in);
    uint32_t seq = w.srv_ack + (uint32_t)(int16_t)u16(in);
    uint32_t ack = w.srv_nxt + (uint32_t)(int16_t)u16(in);
    uint16_t win = (uint16_t)u16(in);
    uint32_t len = u8(in) * 8u;
    uint8_t opts[TCP_OPT_MAX];
    size_t optlen = 0;
    if (op == 2) {
      opts[0] = OPT_NOP;
      opts[1] = OPT_NOP;
      opts[2] = OPT_TS;
      opts[3] = 10;
      wr32(opts + 4, (uint32_t)(w.now / 1000) + 1);
      wr32(opts + 8, w.srv_tsval);
      optlen = 12;
    } else {
      optlen = u8(in) % (TCP_OPT_MAX + 1);
      for (size_t i = 0; i < optlen; i++)
        opts[i] = (uint8_t)u8(in);
    }
    peer_send(40000, flags, seq, ack, win, len, opts, optlen, w.peer_isn);
    break;
  }
  case 3: { /* any bytes at all, as a packet */
    uint8_t pkt[256];
    size_t n = u8(in), i;
    for (i = 0; i < n; i++)
      pkt[i] = (uint8_t)u8(in);
    sk_stack_input(w.s, w.now, pkt, n);
    break;
  }
  case 4: /* the application writes */
    if (w.conn) {
      static uint8_t data[65536];
      size_t n = u16(in);
      if (sk_conn_state(w.conn) != SK_CLOSED)
        sk_conn_write(w.conn, w.now, data, n);
    }
    break;
  case 5:
    app_read();
    break;
  case 6: /* the application ends it, one way or another */
    if (w.conn) {
      switch (u8(in) % 4) {
      case 0:
        sk_conn_shutdown(w.conn, w.now);
        break;
      case 1:
        sk_conn_close(w.conn, w.now);
        break;
      case 2:
        sk_conn_abort(w.conn, w.now);
        break;
      default:
        sk_conn_release(w.conn, w.now);
        w.conn = NULL;
        break;
      }
    }
    break;
  case 7: { /* a SYN to the listener from another port, maybe completed */
    uint16_t sport = (uint16_t)(1 + u16(in) % 60000);
    uint32_t isn = u32(in);
    unsigned how = u8(in);
    uint8_t opts[] = {
        OPT_MSS, 4,      5,  180, OPT_NOP, OPT_WSCALE, 3, 7, OPT_SACK_PERM,
        2,       OPT_TS, 10, 0,   0,       0,          1, 0, 0,
        0,       0};
    if (sport == 40000)
      sport++;
    w.have_last = 0;
    peer_send(sport, TCP_SYN, isn, 0, 65535, 0, opts, (how & 1) ? 20 : 4, isn);
    if ((how & 2) && w.have_last && (w.last.flags & TCP_SYN)) {
      uint8_t ts[12] = {OPT_NOP, OPT_NOP, OPT_TS, 10, 0, 0, 0, 2};
      wr32(ts + 8, (w.last.opts.has & HAS_TS) ? w.last.opts.ts_val : 0);
      w.now += u8(in) * 1000u;
      peer_send(sport, TCP_ACK | ((how & 4) ? TCP_PSH : 0), isn + 1,
                w.last.seq + 1 + ((how & 8) ? u8(in) : 0), 65535,
                (how & 4) ? 100 : 0, ts, (how & 1) ? 12 : 0, isn);
    }
    break;
  }
  case 8: /* an active open to the peer, which answers with case 9 */
    if (!w.active)
      w.active =
          sk_connect(w.s, w.now, PEER, (uint16_t)(1 + u8(in)), NULL, &(int){0});
    break;
  case 10: { /* an ACK below what was sent, with SACK blocks above it */
    uint8_t opts[TCP_OPT_MAX];
    uint32_t ack = w.srv_nxt - u16(in), lo;
    unsigned i, nblk = 1 + u8(in) % 3;
    opts[0] = OPT_NOP;
    opts[1] = OPT_NOP;
    opts[2] = OPT_TS;
    opts[3] = 10;
    wr32(opts + 4, (uint32_t)(w.now / 1000) + 1);
    wr32(opts + 8, w.srv_tsval);
    opts[12] = OPT_NOP;
    opts[13] = OPT_NOP;
    opts[14] = OPT_SACK;
    opts[15] = (uint8_t)(2 + 8 * nblk);
    for (i = 0, lo = ack; i < nblk; i++) {
      lo += u16(in) % 4096;
      wr32(opts + 16 + 8 * i, lo);
      lo += 1 + u16(in) % 4096;
      wr32(opts + 20 + 8 * i, lo);
    }
    peer_send(40000, TCP_ACK, w.srv_ack, ack, 65535, 0, opts, 16 + 8 * nblk,
              w.peer_isn);
    break;
  }
  case 11: { /* a sound TCP segment in an IPv4 header chosen by the input */
    static const uint32_t sources[] = {PEER,        SRV,         0xffffffffu,
                                       0xe0000001u, 0x7f000001u, 0,
                                       0xf0000001u, 0x0b000001u};
    uint8_t pkt[128], out[192], opts[40];
    tcp_seg s;
    size_t n, olen = (u8(in) % 11) * 4, i;
    uint16_t frag = (uint16_t)u16(in);
    uint8_t proto = (u8(in) & 1) ? IP_PROTO_TCP : (uint8_t)u8(in);
    uint16_t ck;
    for (i = 0; i < olen; i++)
      opts[i] = (uint8_t)u8(in);
    memset(&s, 0, sizeof s);
    s.saddr = sources[u8(in) % 8];
    s.daddr = SRV;
    s.sport = 40000;
    s.dport = 80;
    s.flags = (uint8_t)u8(in);
    s.seq = w.srv_ack;
    s.ack = w.srv_nxt;
    s.win = 65535;
    s.ttl = 64;
    if (!(n = wire_build(&s, 0, pkt, sizeof pkt)))
      break;
    memcpy(out, pkt, IP_HDR_LEN); /* options spliced in after the header */
    memcpy(out + IP_HDR_LEN, opts, olen);
    memcpy(out + IP_HDR_LEN + olen, pkt + IP_HDR_LEN, n - IP_HDR_LEN);
    out[0] = (uint8_t)(0x40 | (IP_HDR_LEN + olen) / 4);
    wr16(out + 2, (uint16_t)(n + olen));
    wr16(out + 6, frag);
    out[9] = proto;
    out[10] = out[11] = 0;
    ck = cksum_fold(cksum_add(0, out, IP_HDR_LEN + olen));
    memcpy(out + 10, &ck, 2); /* stored as summed: byte order independent */
    sk_stack_input(w.s, w.now, out, n + olen);
    break;
  }
  case 9:
    if (w.active && w.active->state != SK_CLOSED) {
      sk_conn *a = w.active;
      uint8_t flags = (uint8_t)u8(in);
      tcp_seg s;
      uint8_t pkt[128];
      size_t n;
      memset(&s, 0, sizeof s);
      s.saddr = PEER;
      s.daddr = SRV;
      s.sport = a->rport;
      s.dport = a->lport;
      s.flags = flags;
      s.seq = u32(in);
      s.ack = a->snd_nxt + (uint32_t)(int8_t)u8(in);
      s.win = (uint16_t)u16(in);
      s.ttl = 64;
      if ((n = wire_build(&s, 0, pkt, sizeof pkt)) != 0)
        sk_stack_input(w.s, w.now, pkt, n);
    }
    break;
  }
  sk_stack_dispatch(w.s);
  check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, size};
  sk_config cfg;
  sk_listen_opts lo;
  int err, steps = 0;
  unsigned mode = u8(&in);
  uint8_t syn_opts[] = {
      OPT_MSS, 4,      5,  180, OPT_NOP, OPT_WSCALE, 3, 2, OPT_SACK_PERM,
      2,       OPT_TS, 10, 0,   0,       0,          1, 0, 0,
      0,       0};
  uint8_t ts[12] = {OPT_NOP, OPT_NOP, OPT_TS, 10, 0, 0, 0, 2};
  memset(&w, 0, sizeof w);
  sk_config_init(&cfg);
  cfg.addr = SRV;
  memcpy(cfg.secret, "fuzzfuzzfuzzfuzz", 16);
  /* small caps, so that the fuzzer reaches them */
  cfg.params.sndbuf = 8192;
  cfg.params.rcvbuf = 4096 << (mode & 1);
  cfg.params.max_ooo_holes = 4;
  cfg.params.mss = 536;
  cfg.params.nodelay = (mode >> 1) & 1;
  cfg.max_syn_backlog = 4;
  cfg.backlog = 4;
  cfg.max_time_wait = 8;
  cfg.syncookies = (uint8_t)(SK_SYNCOOKIES_NEVER + (mode >> 2) % 3);
  cfg.rfc1337 = (mode >> 4) & 1;
  w.s = sk_stack_new(&cfg, out, NULL);
  memset(&lo, 0, sizeof lo);
  w.l = sk_listen(w.s, 80, &lo, &err);
  sk_listener_set_callback(w.l, on_listen, NULL);
  w.now = 1000000;
  /* the handshake of the accepted connection; timestamps unless mode says */
  w.peer_isn = u32(&in);
  peer_send(40000, TCP_SYN, w.peer_isn, 0, 65535, 0, syn_opts,
            (mode & 0x20) ? 4 : 20, w.peer_isn);
  if (w.have_last) {
    wr32(ts + 8, w.last.opts.ts_val);
    peer_send(40000, TCP_ACK, w.peer_isn + 1, w.last.seq + 1, 65535, 0, ts,
              (mode & 0x20) ? 0 : 12, w.peer_isn);
  }
  sk_stack_dispatch(w.s);
  check();
  while (in.n && steps++ < 2000)
    step(&in);
  app_read();
  sk_stack_free(w.s);
  return 0;
}
