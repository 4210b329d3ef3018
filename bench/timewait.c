/*
 * bench/timewait.c — TIME-WAIT at scale.  A client opens N connections one
 * after another and closes each first, so N TIME-WAIT entries pile up on
 * it; then 2 MSL passes and they all expire.  Reports the connection rate
 * in the first and the last 10 % (their ratio shows whether the pile
 * slows anything down), the bytes per entry by the allocator's own
 * accounting, and the time per expiry.
 *
 *   bench/timewait [N]      (default 200000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../csrc/synack.h"

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u
#define PORTS 4 /* server ports: 4 x 64k 4-tuples */

static sk_sim *sim;
static sk_listener *listeners[PORTS];

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void step_until_idle_now(void) {
  uint64_t until = sk_sim_now(sim) + 1000; /* a millisecond of traffic */
  while (sk_sim_step(sim, until))
    sk_sim_dispatch(sim);
}

/* client side: close as soon as it is established, and let go */
static void on_client(void *ud, int ev, int arg) {
  sk_conn *c = ud;
  (void)arg;
  if (ev == SK_EV_CONNECTED)
    sk_conn_release(c, sk_sim_now(sim)); /* closes: FIN */
}

/* server side: close when the client's FIN comes, and let go */
static void on_server(void *ud, int ev, int arg) {
  sk_conn *c = ud;
  (void)arg;
  if (ev == SK_EV_PEER_FIN)
    sk_conn_release(c, sk_sim_now(sim));
}

static void on_accept(void *ud, int ev, int arg) {
  sk_listener *l = ud;
  sk_conn *c;
  (void)ev;
  (void)arg;
  while ((c = sk_listener_accept(l)) != NULL)
    sk_conn_set_callback(c, on_server, c);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000, i, tenth;
  sk_link link = {.delay = 10};
  sk_config cc, sc;
  sk_stack *client, *server;
  double t0, t_first = 0, t_last_start = 0, t_end, t_expire;
  uint64_t mem0, mem_tw;
  int err, p;
  if (n < 100) {
    fprintf(stderr, "N must be at least 100\n");
    return 2;
  }
  tenth = n / 10;
  sim = sk_sim_new(1, &link);
  sk_config_init(&cc);
  sk_config_init(&sc);
  cc.addr = CLIENT;
  sc.addr = SERVER;
  cc.port_lo = 1024;
  cc.max_time_wait = (uint32_t)n + 1;
  /* every entry must stay: a long MSL (a connection takes a virtual
   * millisecond here), and no timestamps, so no port is ever reused */
  cc.params.msl = 1800000000u;
  cc.params.timestamps = 0;
  client = sk_sim_add_stack(sim, &cc, &err);
  server = sk_sim_add_stack(sim, &sc, &err);
  for (p = 0; p < PORTS; p++) {
    listeners[p] = sk_listen(server, (uint16_t)(80 + p), NULL, &err);
    sk_listener_set_callback(listeners[p], on_accept, listeners[p]);
  }
  mem0 = sk_stack_stats(client)->memory;
  t0 = wall();
  for (i = 0; i < n; i++) {
    sk_conn *c = sk_connect(client, sk_sim_now(sim), SERVER,
                            (uint16_t)(80 + i % PORTS), NULL, &err);
    if (!c) {
      fprintf(stderr, "connect %ld: %s\n", i, sk_strerror(err));
      return 1;
    }
    sk_conn_set_callback(c, on_client, c);
    step_until_idle_now();
    if (i + 1 == tenth)
      t_first = wall() - t0;
    if (i == n - tenth)
      t_last_start = wall();
  }
  t_end = wall();
  mem_tw = sk_stack_stats(client)->memory;
  if ((long)sk_stack_stats(client)->time_wait != n) {
    fprintf(stderr, "expected %ld TIME-WAIT entries, have %llu\n", n,
            (unsigned long long)sk_stack_stats(client)->time_wait);
    return 1;
  }
  t_expire = wall();
  while (sk_sim_step(sim, sk_sim_now(sim) + 4000000000ull))
    sk_sim_dispatch(sim);
  t_expire = wall() - t_expire;
  printf("timewait: %ld entries\n", n);
  printf("  rate, first 10 %%: %.0f conn/s\n", tenth / t_first);
  printf("  rate, last 10 %%:  %.0f conn/s\n", tenth / (t_end - t_last_start));
  printf("  ratio last/first: %.2f\n",
         (tenth / (t_end - t_last_start)) / (tenth / t_first));
  printf("  bytes per entry:  %.1f (allocator accounting)\n",
         (double)(mem_tw - mem0) / (double)n);
  printf("  expiry:           %.1f ns per entry, %llu left\n",
         t_expire * 1e9 / (double)n,
         (unsigned long long)sk_stack_stats(client)->time_wait);
  sk_sim_free(sim);
  return 0;
}
