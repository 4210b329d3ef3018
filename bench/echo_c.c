/*
 * bench/echo_c.c — an echo over one connection in the simulator (no
 * delay, no impairment), driven from C callbacks: the client streams
 * MB megabytes, the server writes back what it reads, the client reads
 * the echo.  The same as bench/echo.lua does from Lua callbacks, for the
 * ratio of the two.
 *
 *   echo_c MB      prints "mb_s <rate> bytes <n> seconds <t>"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../csrc/synack.h"

static sk_sim *sim;
static sk_conn *client, *server;
static sk_listener *listener;
static size_t total, sent, echoed, pending_len;
static uint8_t data[1 << 16], buf[1 << 16], pending[1 << 16];

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now(void) { return sk_sim_now(sim); }

static void client_write(void) {
  while (sent < total) {
    size_t n = total - sent < sizeof data ? total - sent : sizeof data;
    ptrdiff_t w = sk_conn_write(client, now(), data, n);
    if (w <= 0)
      return;
    sent += (size_t)w;
  }
}

/* The server writes back what it read; what does not fit waits. */
static void server_flush(void) {
  while (pending_len) {
    ptrdiff_t w = sk_conn_write(server, now(), pending, pending_len);
    if (w <= 0)
      return;
    memmove(pending, pending + w, pending_len - (size_t)w);
    pending_len -= (size_t)w;
  }
}

static void on_server(void *ud, int ev, int arg) {
  (void)ud;
  (void)arg;
  if (ev == SK_EV_READABLE || ev == SK_EV_WRITABLE) {
    ptrdiff_t r;
    server_flush();
    while (pending_len < sizeof pending &&
           (r = sk_conn_read(server, now(), pending + pending_len,
                             sizeof pending - pending_len)) > 0) {
      pending_len += (size_t)r;
      server_flush();
    }
  }
}

static void on_client(void *ud, int ev, int arg) {
  ptrdiff_t r;
  (void)ud;
  (void)arg;
  if (ev == SK_EV_CONNECTED || ev == SK_EV_WRITABLE)
    client_write();
  if (ev == SK_EV_READABLE)
    while ((r = sk_conn_read(client, now(), buf, sizeof buf)) > 0)
      echoed += (size_t)r;
}

static void on_accept(void *ud, int ev, int arg) {
  (void)ud;
  (void)ev;
  (void)arg;
  if ((server = sk_listener_accept(listener)) != NULL)
    sk_conn_set_callback(server, on_server, NULL);
}

int main(int argc, char **argv) {
  sk_link link;
  sk_config ca, cb;
  sk_stack *sa, *sb;
  int err;
  double t0, t;
  total = (size_t)(argc > 1 ? atof(argv[1]) : 64) * 1000000;
  memset(&link, 0, sizeof link);
  sim = sk_sim_new(1, &link);
  sk_config_init(&ca);
  sk_config_init(&cb);
  ca.addr = 0x0a000001u;
  cb.addr = 0x0a000002u;
  sk_sim_secret(sim, ca.addr, ca.secret);
  sk_sim_secret(sim, cb.addr, cb.secret);
  sa = sk_sim_add_stack(sim, &ca, &err);
  sb = sk_sim_add_stack(sim, &cb, &err);
  listener = sk_listen(sb, 7, NULL, &err);
  sk_listener_set_callback(listener, on_accept, NULL);
  client = sk_connect(sa, now(), cb.addr, 7, NULL, &err);
  sk_conn_set_callback(client, on_client, NULL);
  t0 = wall();
  while (echoed < total && sk_sim_step(sim, SK_NEVER)) {
    int i; /* what arrives at one instant together, as lsim.c does */
    for (i = 0; i < 64 && sk_sim_next(sim) == sk_sim_now(sim) &&
                sk_sim_step(sim, SK_NEVER);
         i++)
      ;
    sk_sim_dispatch(sim);
  }
  t = wall() - t0;
  printf("mb_s %.1f bytes %zu seconds %.3f\n", echoed / t / 1e6, echoed, t);
  sk_sim_free(sim);
  return echoed == total ? 0 : 1;
}
