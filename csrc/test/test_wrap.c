/* test_wrap.c — more than 2^32 octets through one connection: sequence
 * numbers wrap, and fast retransmit still works after 2^31 octets without
 * a loss (RFC 6582's `recover` must not fall half the space behind). */
#include <stdlib.h>
#include <string.h>

#include "../synack.h"
#include "check.h"

#define A 0x0a000001u
#define B 0x0a000002u
#ifndef TOTAL
#define TOTAL (4400ull << 20) /* past 2^32 */
#endif

static sk_sim *sim;
static sk_conn *rx_conn;
static uint64_t received, corrupt;

/* The stream is i % 251 at offset i: a period prime to every segment
 * size, so a misplaced segment shows. */
static uint8_t pattern(uint64_t i) { return (uint8_t)(i % 251); }

static int dropped; /* data segments the impairment has taken */
static void tap(void *ctx, uint64_t now, const uint8_t *p, size_t len,
                int flags) {
  (void)ctx;
  (void)now;
  (void)p;
  if ((flags & SK_SIM_DROPPED) && len > 100)
    dropped++;
}

static void on_rx(void *ud, int ev, int arg) {
  static uint8_t buf[65536];
  ptrdiff_t n, i;
  (void)ud;
  (void)arg;
  if (ev != SK_EV_READABLE)
    return;
  while ((n = sk_conn_read(rx_conn, sk_sim_now(sim), buf, sizeof buf)) > 0) {
    for (i = 0; i < n; i++) /* every octet checked, cheaply */
      if (buf[i] != pattern(received + (uint64_t)i))
        corrupt++;
    received += (uint64_t)n;
  }
}

static sk_listener *listener;
static void on_accept(void *ud, int ev, int arg) {
  (void)ud;
  (void)ev;
  (void)arg;
  rx_conn = sk_listener_accept(listener);
  sk_conn_set_callback(rx_conn, on_rx, NULL);
}

int main(void) {
  sk_link link = {.delay = 100};
  sk_config ca, cb;
  sk_stack *sa, *sb;
  sk_conn *tx;
  static uint8_t chunk[(1 << 16) + 251];
  uint64_t sent = 0, i,
           losses[] = {TOTAL / 2, TOTAL / 4 * 3, TOTAL - TOTAL / 16};
  int err, next_loss = 0;
  sim = sk_sim_new(11, &link);
  sk_sim_set_tap(sim, tap, NULL);
  sk_config_init(&ca);
  sk_config_init(&cb);
  ca.addr = A;
  cb.addr = B;
  sa = sk_sim_add_stack(sim, &ca, &err);
  sb = sk_sim_add_stack(sim, &cb, &err);
  listener = sk_listen(sb, 80, NULL, &err);
  sk_listener_set_callback(listener, on_accept, NULL);
  tx = sk_connect(sa, 0, B, 80, NULL, &err);
  for (i = 0; i < sizeof chunk; i++)
    chunk[i] = pattern(i);
  while (received < TOTAL) {
    if (sent < TOTAL) {
      size_t n = 1 << 16;
      if (n > TOTAL - sent)
        n = (size_t)(TOTAL - sent);
      sent +=
          (uint64_t)sk_conn_write(tx, sk_sim_now(sim), chunk + sent % 251, n);
    }
    /* one lost segment at each mark: it must be repaired by fast
     * retransmit, not by a timeout */
    if (next_loss < 3 && received > losses[next_loss]) {
      sk_link l = link;
      int before = dropped;
      l.loss = 1;
      sk_sim_impair(sim, A, B, &l);
      while (dropped == before && sk_sim_step(sim, SK_NEVER))
        sk_sim_dispatch(sim);
      sk_sim_impair(sim, A, B, &link);
      next_loss++;
    }
    if (!sk_sim_step(sim, SK_NEVER))
      break;
    sk_sim_dispatch(sim);
  }
  CHECK_EQ(received, TOTAL);
  CHECK_EQ(corrupt, 0);
  CHECK_EQ(next_loss, 3);
  CHECK_EQ(dropped, 3);
  CHECK(sk_stack_stats(sa)->fast_retransmits >= 3);
  CHECK_EQ(sk_stack_stats(sa)->timeouts, 0);
  sk_sim_free(sim);
  return check_done("test_wrap");
}
