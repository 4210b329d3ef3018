/*
 * dev.h — network devices for live stacks: a TAP interface the stack
 * creates (the kernel on the other side), or a raw AF_PACKET socket bound
 * to an existing interface.  Both give a non-blocking fd of whole
 * Ethernet frames.
 */
#ifndef SK_DRIVE_DEV_H
#define SK_DRIVE_DEV_H

#include <stddef.h>
#include <stdint.h>

enum { SK_DEV_TAP, SK_DEV_PACKET };

typedef struct sk_dev {
  int kind;
  int fd;
  char name[16];  /* the interface */
  uint8_t mac[6]; /* the interface's (AF_PACKET) */
  uint32_t mtu;
} sk_dev;

/* Opens a TAP interface `name` (an empty name lets the kernel choose),
 * gives the kernel side `kaddr`/`kmask` (0: none) and `mtu`, brings it
 * up.  Returns SK_OK, or an error (SK_EPERM, SK_EADDRINUSE if it exists,
 * SK_EINVAL) with a sentence in why[cap]. */
int sk_dev_tap(sk_dev *d, const char *name, uint32_t kaddr, uint32_t kmask,
               uint32_t mtu, char *why, size_t cap);
/* Binds to the existing interface `ifname`. */
int sk_dev_packet(sk_dev *d, const char *ifname, int promiscuous, char *why,
                  size_t cap);
/* Reads one frame: its length, 0 when none is waiting, -1 on an error.
 * A frame whose transport checksum the kernel left to the hardware
 * (AF_PACKET, TP_STATUS_CSUMNOTREADY) gets it filled in. */
long sk_dev_read(sk_dev *d, uint8_t *buf, size_t cap);
/* Writes one frame: 1 sent, 0 the device is full (try again later), -1
 * an error. */
int sk_dev_write(sk_dev *d, const uint8_t *frame, size_t len);
void sk_dev_close(sk_dev *d);
/* 1 if the kernel has `addr` on any interface of this namespace. */
int sk_dev_kernel_has(uint32_t addr);

#endif
