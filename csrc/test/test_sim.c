/* test_sim.c — the core end to end through the C API alone (no Lua):
 * two stacks in the simulator, events, a transfer, close and TIME-WAIT,
 * determinism, many connections, and memory returning to its baseline. */
#include <stdlib.h>
#include <string.h>

#include "../synack.h"
#include "check.h"

#define A 0x0a000001u
#define B 0x0a000002u

typedef struct app {
  sk_conn *conn;
  int events[SK_EV_COUNT];
  int close_err;
  size_t got;
  uint32_t hash; /* FNV of the bytes received */
} app;

static uint64_t now_of(sk_sim *sim) { return sk_sim_now(sim); }
static sk_sim *g_sim;

static void on_conn(void *ud, int ev, int arg) {
  app *a = ud;
  a->events[ev]++;
  if (ev == SK_EV_READABLE) {
    uint8_t buf[4096];
    ptrdiff_t n;
    while ((n = sk_conn_read(a->conn, now_of(g_sim), buf, sizeof buf)) > 0) {
      ptrdiff_t i;
      for (i = 0; i < n; i++)
        a->hash = (a->hash ^ buf[i]) * 16777619u;
      a->got += (size_t)n;
    }
  }
  if (ev == SK_EV_PEER_FIN)
    sk_conn_close(a->conn, now_of(g_sim));
  if (ev == SK_EV_CLOSED)
    a->close_err = arg;
}

static app server_app;
static sk_listener *g_listener;

static void on_listener(void *ud, int ev, int arg) {
  sk_conn *c;
  (void)ud;
  (void)arg;
  CHECK_EQ(ev, SK_EV_ACCEPT);
  while ((c = sk_listener_accept(g_listener)) != NULL) {
    server_app.conn = c;
    sk_conn_set_callback(c, on_conn, &server_app);
  }
}

static void run(sk_sim *sim, uint64_t until) {
  while (sk_sim_step(sim, until))
    sk_sim_dispatch(sim);
}

static uint32_t tap_hash;
static size_t tap_count;
static void tap(void *ctx, uint64_t now, const uint8_t *p, size_t len,
                int dropped) {
  size_t i;
  (void)ctx;
  tap_hash = (tap_hash ^ (uint32_t)now ^ (uint32_t)dropped) * 16777619u;
  for (i = 0; i < len; i++)
    tap_hash = (tap_hash ^ p[i]) * 16777619u;
  tap_count++;
}

/* One transfer of `total` bytes from A to B; returns the tap's hash. */
static uint32_t transfer(uint64_t seed, double loss, size_t total) {
  sk_link link = {.delay = 5000, .loss = loss};
  sk_sim *sim = sk_sim_new(seed, &link);
  sk_config ca, cb;
  sk_stack *sa, *sb;
  app client;
  int err;
  size_t sent = 0;
  static uint8_t data[1 << 20];
  uint32_t want = 2166136261u;
  size_t i;
  g_sim = sim;
  tap_hash = 2166136261u;
  tap_count = 0;
  sk_sim_set_tap(sim, tap, NULL);
  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 31 + (i >> 9));
  sk_config_init(&ca);
  sk_config_init(&cb);
  ca.addr = A;
  cb.addr = B;
  sk_sim_secret(sim, A, ca.secret);
  sk_sim_secret(sim, B, cb.secret);
  sa = sk_sim_add_stack(sim, &ca, &err);
  sb = sk_sim_add_stack(sim, &cb, &err);
  CHECK(sa && sb);
  memset(&server_app, 0, sizeof server_app);
  server_app.hash = 2166136261u;
  g_listener = sk_listen(sb, 80, NULL, &err);
  sk_listener_set_callback(g_listener, on_listener, NULL);
  memset(&client, 0, sizeof client);
  client.hash = 2166136261u;
  client.conn = sk_connect(sa, 0, B, 80, NULL, &err);
  CHECK(client.conn != NULL);
  sk_conn_set_callback(client.conn, on_conn, &client);
  /* write as the send buffer allows, stepping the network in between */
  while (sent < total) {
    ptrdiff_t n =
        sk_conn_write(client.conn, sk_sim_now(sim), data + sent, total - sent);
    CHECK(n >= 0);
    sent += (size_t)n;
    if (!sk_sim_step(sim, SK_NEVER))
      break;
    sk_sim_dispatch(sim);
  }
  /* shutdown, not close: close() in SYN-SENT would drop the connection */
  sk_conn_shutdown(client.conn, sk_sim_now(sim));
  run(sim, SK_NEVER);
  CHECK(server_app.conn != NULL);
  if (!server_app.conn)
    return 0;
  for (i = 0; i < total; i++)
    want = (want ^ data[i]) * 16777619u;
  CHECK_EQ(server_app.got, total);
  CHECK_EQ(server_app.hash, want);
  CHECK_EQ(client.events[SK_EV_CONNECTED], 1);
  CHECK_EQ(client.events[SK_EV_CLOSED], 1);
  CHECK_EQ(client.close_err, SK_OK);
  CHECK_EQ(server_app.events[SK_EV_CLOSED], 1);
  CHECK_EQ(sk_conn_state(client.conn), SK_CLOSED); /* TIME-WAIT is over */
  CHECK_EQ(sk_conn_state(server_app.conn), SK_CLOSED);
  sk_conn_release(client.conn, sk_sim_now(sim));
  sk_conn_release(server_app.conn, sk_sim_now(sim));
  sk_listener_close(g_listener, sk_sim_now(sim));
  /* everything released: only the stack's fixed tables remain */
  CHECK(sk_stack_stats(sa)->memory < 70000);
  CHECK(sk_stack_stats(sb)->memory < 70000);
  sk_sim_free(sim);
  return tap_hash;
}

static void test_transfer_and_determinism(void) {
  uint32_t h1 = transfer(1, 0.0, 300000);
  uint32_t h2 = transfer(1, 0.0, 300000);
  uint32_t h3, h4;
  CHECK_EQ(h1, h2);
  h3 = transfer(9, 0.1, 200000); /* with loss: retransmissions */
  h4 = transfer(9, 0.1, 200000);
  CHECK_EQ(h3, h4);
  CHECK(h3 != transfer(10, 0.1, 200000));
}

/* N connections at once, established, accepted, closed, and gone
 * after TIME-WAIT. */
static void many_round(sk_sim *sim, sk_stack *sa, sk_listener *l, int n) {
  static sk_conn *conns[5000];
  int err, i, established = 0;
  for (i = 0; i < n; i++) {
    conns[i] = sk_connect(sa, sk_sim_now(sim), B, 80, NULL, &err);
    CHECK(conns[i] != NULL);
  }
  run(sim, sk_sim_now(sim) + 100000);
  for (i = 0; i < n; i++)
    established += sk_conn_state(conns[i]) == SK_ESTABLISHED;
  CHECK_EQ(established, n);
  for (i = 0; i < n; i++) {
    sk_conn *c = sk_listener_accept(l);
    CHECK(c != NULL);
    if (c)
      sk_conn_release(c, sk_sim_now(sim)); /* closes it: FIN */
  }
  CHECK(sk_listener_accept(l) == NULL);
  for (i = 0; i < n; i++)
    sk_conn_release(conns[i], sk_sim_now(sim));
  run(sim, SK_NEVER);
}

/* Many connections: the 4-tuple table grows and every one is found; a
 * second round of the same size leaves memory exactly where the first
 * left it, so nothing leaks per connection. */
static void test_many(void) {
  enum { N = 3000 };
  sk_link link = {.delay = 1000};
  sk_sim *sim = sk_sim_new(3, &link);
  sk_config ca, cb;
  sk_stack *sa, *sb;
  sk_listener *l;
  uint64_t after_a, after_b;
  int err;
  g_sim = sim;
  sk_config_init(&ca);
  sk_config_init(&cb);
  ca.addr = A;
  cb.addr = B;
  ca.params.msl = 1000000;
  cb.backlog = N;
  cb.max_syn_backlog = N;
  sa = sk_sim_add_stack(sim, &ca, &err);
  sb = sk_sim_add_stack(sim, &cb, &err);
  l = sk_listen(sb, 80, NULL, &err);
  many_round(sim, sa, l, N);
  after_a = sk_stack_stats(sa)->memory;
  after_b = sk_stack_stats(sb)->memory;
  many_round(sim, sa, l, N);
  CHECK_EQ(sk_stack_stats(sa)->memory, after_a);
  CHECK_EQ(sk_stack_stats(sb)->memory, after_b);
  CHECK_EQ(sk_stack_stats(sa)->conns_opened, 2 * N);
  sk_listener_close(l, sk_sim_now(sim));
  sk_sim_free(sim);
}

/* Live stacks take their secret from getrandom(2): two draws differ. */
static void test_random(void) {
  uint8_t a[16] = {0}, b[16] = {0};
  CHECK_EQ(sk_random(a, sizeof a), SK_OK);
  CHECK_EQ(sk_random(b, sizeof b), SK_OK);
  CHECK(memcmp(a, b, sizeof a) != 0);
}

int main(void) {
  test_random();
  test_transfer_and_determinism();
  test_many();
  return check_done("test_sim");
}
