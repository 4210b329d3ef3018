/*
 * uv.h — a live stack on a device, driven by a libuv loop: a uv_poll_t on
 * the device reads every frame waiting at each wake-up, a uv_timer_t is
 * re-armed to the stack's (and ARP's) next deadline after every input,
 * timer and application call, and frames go straight to the device, into
 * a bounded queue when it is full.
 */
#ifndef SK_DRIVE_UV_H
#define SK_DRIVE_UV_H

#include <uv.h>

#include "../link/eth.h"
#include "../synack.h"
#include "dev.h"

#define SK_UV_TXQ_MAX 1024 /* frames waiting for a full device, at most */

typedef struct sk_uvdev sk_uvdev;

/* Called after the driver has given the stack input or time, so its
 * owner can deliver the stack's events. */
typedef void (*sk_uv_after_fn)(void *ud);

/* Takes dev (closing it on failure), makes the link layer and the stack,
 * and starts reading.  NULL and *err on failure. */
sk_uvdev *sk_uvdev_open(uv_loop_t *loop, sk_dev *dev, const sk_config *cfg,
                        const sk_eth_config *ec, sk_uv_after_fn after, void *ud,
                        int *err);
sk_stack *sk_uvdev_stack(sk_uvdev *u);
sk_eth *sk_uvdev_eth(sk_uvdev *u);
const sk_dev *sk_uvdev_dev(const sk_uvdev *u);
uint64_t sk_uvdev_tx_drops(const sk_uvdev *u);
/* Re-arms the timer after the application called into the stack. */
void sk_uvdev_kick(sk_uvdev *u);
/* Stops, closes the device (a TAP interface disappears) and frees the
 * stack; the memory goes once libuv has closed the handles. */
void sk_uvdev_close(sk_uvdev *u);
/* Monotonic microseconds: the clock of live stacks. */
uint64_t sk_uv_now(void);

#endif
