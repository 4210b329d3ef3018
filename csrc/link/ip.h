/*
 * ip.h — the IPv4 host around a stack: TCP goes to the stack, ICMP echo
 * requests are answered, ICMP errors about our segments go to the stack
 * (RFC 1122 §3.2.2).  Shared by the simulator's hosts and the link layer.
 */
#ifndef SK_LINK_IP_H
#define SK_LINK_IP_H

#include "../synack.h"

/* A packet for the host of stack s; replies (ICMP) leave through out. */
void sk_ip_input(sk_stack *s, uint64_t now, const uint8_t *pkt, size_t len,
                 sk_output_fn out, void *ctx);

#endif
