/*
 * bench/lwip/lwip_node.c — one lwIP stack (Debian's liblwip, the raw API)
 * for bench/lwip/lwip_bench.c, which loads this object twice with
 * dlmopen(LM_ID_NEWLM) so that each copy has its own lwIP globals: two
 * stacks in one process and one thread, joined by an in-memory link, the
 * same set-up as bench/synack_bench.c.  tcpip_init() is never called; the
 * bench thread is the only one, and drives timers with
 * sys_check_timeouts().
 */
#include <malloc.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

typedef void (*node_out_fn)(void *ctx, const uint8_t *pkt, size_t len);

static struct netif nif;
static node_out_fn out_fn;
static void *out_ctx;
static uint8_t frame[65536];

/* the bench's view of this stack */
static struct tcp_pcb *client, *server, *listener;
static unsigned long long received; /* bytes the server read */
static int accepted, closed_server;
static uint8_t sink[65536];
static const uint8_t *bulk_data;
static int bulk_on;

static err_t link_out(struct netif *n, struct pbuf *p, const ip4_addr_t *dst) {
  (void)n;
  (void)dst;
  pbuf_copy_partial(p, frame, p->tot_len, 0); /* onto the wire */
  out_fn(out_ctx, frame, p->tot_len);
  return ERR_OK;
}

static err_t nif_init(struct netif *n) {
  n->output = link_out;
  n->mtu = 1500;
  n->name[0] = 'b';
  n->name[1] = 'n';
  return ERR_OK;
}

void node_init(uint32_t addr, uint32_t peer, uint16_t mtu, node_out_fn fn,
               void *ctx);
void node_init(uint32_t addr, uint32_t peer, uint16_t mtu, node_out_fn fn,
               void *ctx) {
  ip4_addr_t ip, mask, gw;
  (void)peer;
  out_fn = fn;
  out_ctx = ctx;
  lwip_init();
  ip4_addr_set_u32(&ip, lwip_htonl(addr));
  ip4_addr_set_u32(&mask, lwip_htonl(0xffffff00u));
  ip4_addr_set_u32(&gw, 0);
  netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ip_input);
  nif.mtu = mtu;
  netif_set_default(&nif);
  netif_set_up(&nif);
  netif_set_link_up(&nif);
}

/* A packet from the wire.  Received into PBUF_RAM: Debian's PBUF_POOL
 * blocks are smaller than they claim (see ../shared/perf-anchors). */
void node_input(const uint8_t *pkt, size_t len);
void node_input(const uint8_t *pkt, size_t len) {
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
  if (!p)
    return;
  pbuf_take(p, pkt, (u16_t)len);
  if (nif.input(p, &nif) != ERR_OK)
    pbuf_free(p);
}

void node_poll(void);
void node_poll(void) { sys_check_timeouts(); }

/* ---- server ---------------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)arg;
  (void)err;
  if (!p) { /* the peer's FIN: close too */
    tcp_close(pcb);
    closed_server++;
    if (pcb == server)
      server = NULL;
    return ERR_OK;
  }
  {
    struct pbuf *q;
    for (q = p; q; q = q->next) { /* the data, copied out */
      memcpy(sink, q->payload, q->len);
      received += q->len;
    }
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void on_err(void *arg, err_t err) {
  (void)arg;
  (void)err;
  server = NULL; /* a RST freed it */
  closed_server++;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  (void)err;
  server = pcb;
  accepted++;
  tcp_recv(pcb, on_recv);
  tcp_err(pcb, on_err);
  return ERR_OK;
}

void node_listen(uint16_t port);
void node_listen(uint16_t port) {
  struct tcp_pcb *pcb = tcp_new();
  tcp_bind(pcb, IP_ADDR_ANY, port);
  listener = tcp_listen(pcb);
  tcp_accept(listener, on_accept);
}

int node_accepted(void);
int node_accepted(void) { return accepted; }
int node_closed(void);
int node_closed(void) { return closed_server; }
unsigned long long node_received(void);
unsigned long long node_received(void) { return received; }

/* ---- client ---------------------------------------------------------------- */

static int connected;

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  (void)pcb;
  (void)err;
  connected = 1;
  return ERR_OK;
}

static void fill(struct tcp_pcb *pcb) {
  while (bulk_on) {
    u16_t room = tcp_sndbuf(pcb);
    if (room < 1460 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
      break;
    if (tcp_write(pcb, bulk_data, room > 8192 ? 8192 : room,
                  TCP_WRITE_FLAG_COPY) != ERR_OK)
      break;
  }
  tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)arg;
  (void)len;
  fill(pcb);
  return ERR_OK;
}

static void on_client_err(void *arg, err_t err) {
  (void)arg;
  (void)err;
  client = NULL;
}

/* Starts a connection to addr:port; node_connected() says when it is up. */
int node_connect(uint32_t addr, uint16_t port);
int node_connect(uint32_t addr, uint16_t port) {
  ip_addr_t ip;
  connected = 0;
  client = tcp_new();
  if (!client)
    return -1;
  tcp_err(client, on_client_err);
  ip_addr_set_ip4_u32_val(ip, lwip_htonl(addr));
  return tcp_connect(client, &ip, port, on_connected) == ERR_OK ? 0 : -1;
}

int node_connected(void);
int node_connected(void) { return connected; }

void node_bulk(const uint8_t *data);
void node_bulk(const uint8_t *data) {
  bulk_data = data;
  bulk_on = 1;
  tcp_sent(client, on_sent);
  fill(client);
}

void node_abort(void);
void node_abort(void) {
  if (client)
    tcp_abort(client); /* a RST; the pcb is freed */
  client = NULL;
}

void node_close(void);
void node_close(void) {
  if (client)
    tcp_close(client); /* a FIN; TIME_WAIT follows */
  client = NULL;
}

/* Bytes this copy's malloc holds (it has its own libc heap). */
unsigned long long node_heap(void);
unsigned long long node_heap(void) { return mallinfo2().uordblks; }
