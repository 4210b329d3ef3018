/*
 * uv.c — the libuv driver of a live stack (see uv.h).
 */
#include "uv.h"

#include <stdlib.h>
#include <string.h>

#define RX_BATCH 256 /* frames read per wake-up at most, then others' turn */

typedef struct txframe {
  struct txframe *next;
  size_t len;
  uint8_t data[];
} txframe;

struct sk_uvdev {
  uv_poll_t poll;
  uv_timer_t timer;
  uv_loop_t *loop;
  sk_dev dev;
  sk_eth *eth;
  sk_stack *stack;
  sk_uv_after_fn after;
  void *ud;
  txframe *txq, **txq_tail;
  uint32_t txq_len;
  uint64_t tx_drops;
  int events; /* what the poll handle waits for */
  int handles_open;
  uint8_t rx[SK_ETH_HDR + 65535];
};

uint64_t sk_uv_now(void) { return uv_hrtime() / 1000; }

sk_stack *sk_uvdev_stack(sk_uvdev *u) { return u->stack; }
sk_eth *sk_uvdev_eth(sk_uvdev *u) { return u->eth; }
const sk_dev *sk_uvdev_dev(const sk_uvdev *u) { return &u->dev; }
uint64_t sk_uvdev_tx_drops(const sk_uvdev *u) { return u->tx_drops; }

static void on_poll(uv_poll_t *h, int status, int events);
static void on_timer(uv_timer_t *h);

static void want(sk_uvdev *u, int events) {
  if (events != u->events) {
    u->events = events;
    uv_poll_start(&u->poll, events, on_poll);
  }
}

/* Frames to the device; behind a full device they queue, then drop. */
static void send_frame(void *ctx, const uint8_t *f, size_t len) {
  sk_uvdev *u = ctx;
  txframe *t;
  if (!u->txq) {
    int r = sk_dev_write(&u->dev, f, len);
    if (r != 0) {
      if (r < 0)
        u->tx_drops++;
      return;
    }
  }
  if (u->txq_len >= SK_UV_TXQ_MAX || !(t = malloc(sizeof *t + len))) {
    u->tx_drops++;
    return;
  }
  t->next = NULL;
  t->len = len;
  memcpy(t->data, f, len);
  *u->txq_tail = t;
  u->txq_tail = &t->next;
  u->txq_len++;
  want(u, UV_READABLE | UV_WRITABLE);
}

static void flush_txq(sk_uvdev *u) {
  txframe *t;
  while ((t = u->txq) != NULL) {
    int r = sk_dev_write(&u->dev, t->data, t->len);
    if (r == 0)
      return; /* still full */
    if (r < 0)
      u->tx_drops++;
    u->txq = t->next;
    if (!u->txq)
      u->txq_tail = &u->txq;
    u->txq_len--;
    free(t);
  }
  want(u, UV_READABLE);
}

void sk_uvdev_kick(sk_uvdev *u) {
  uint64_t d = sk_stack_deadline(u->stack), e = sk_eth_deadline(u->eth), now;
  if (e < d)
    d = e;
  if (d == SK_NEVER) {
    uv_timer_stop(&u->timer);
    return;
  }
  now = sk_uv_now();
  /* libuv counts milliseconds: round up, never fire early */
  uv_timer_start(&u->timer, on_timer, d > now ? (d - now + 999) / 1000 : 0, 0);
}

static void after(sk_uvdev *u) {
  if (u->after)
    u->after(u->ud);
  if (u->stack) /* the owner may have closed it */
    sk_uvdev_kick(u);
}

static void on_timer(uv_timer_t *h) {
  sk_uvdev *u = h->data;
  uint64_t now = sk_uv_now();
  sk_eth_poll(u->eth, now);
  sk_stack_poll(u->stack, now);
  after(u);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sk_uvdev *u = h->data;
  int i;
  if (status < 0)
    return;
  if (events & UV_WRITABLE)
    flush_txq(u);
  if (events & UV_READABLE) {
    uint64_t now = sk_uv_now();
    for (i = 0; i < RX_BATCH; i++) {
      long n = sk_dev_read(&u->dev, u->rx, sizeof u->rx);
      if (n <= 0)
        break;
      sk_eth_input(u->eth, now, u->rx, (size_t)n);
    }
    sk_stack_poll(u->stack, now);
  }
  after(u);
}

sk_uvdev *sk_uvdev_open(uv_loop_t *loop, sk_dev *dev, const sk_config *cfg,
                        const sk_eth_config *ec, sk_uv_after_fn after_fn,
                        void *ud, int *err) {
  sk_uvdev *u = calloc(1, sizeof *u);
  *err = SK_ENOMEM;
  if (!u) {
    sk_dev_close(dev);
    return NULL;
  }
  u->loop = loop;
  u->dev = *dev;
  u->after = after_fn;
  u->ud = ud;
  u->txq_tail = &u->txq;
  if (!(u->eth = sk_eth_new(ec, send_frame, u)) ||
      !(u->stack = sk_stack_new(cfg, sk_eth_output, u->eth))) {
    sk_eth_free(u->eth);
    sk_dev_close(&u->dev);
    free(u);
    return NULL;
  }
  sk_eth_attach(u->eth, u->stack);
  sk_eth_poll(u->eth, sk_uv_now());
  if (uv_poll_init(loop, &u->poll, u->dev.fd) != 0 ||
      uv_timer_init(loop, &u->timer) != 0) {
    *err = SK_EINVAL;
    sk_stack_free(u->stack);
    sk_eth_free(u->eth);
    sk_dev_close(&u->dev);
    free(u);
    return NULL;
  }
  u->poll.data = u->timer.data = u;
  u->handles_open = 2;
  want(u, UV_READABLE);
  *err = SK_OK;
  return u;
}

static void on_closed(uv_handle_t *h) {
  sk_uvdev *u = h->data;
  if (--u->handles_open == 0)
    free(u);
}

void sk_uvdev_close(sk_uvdev *u) {
  txframe *t;
  uv_poll_stop(&u->poll);
  uv_timer_stop(&u->timer);
  while ((t = u->txq) != NULL) {
    u->txq = t->next;
    free(t);
  }
  sk_stack_free(u->stack);
  u->stack = NULL;
  sk_eth_free(u->eth);
  u->eth = NULL;
  sk_dev_close(&u->dev);
  uv_close((uv_handle_t *)&u->poll, on_closed);
  uv_close((uv_handle_t *)&u->timer, on_closed);
}
