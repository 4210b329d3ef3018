/*
 * bench/tapfwd.c — the ceiling of any TAP-based stack on this machine: a
 * plain userspace forwarder between two TAP interfaces, one thread
 * reading frames from each and writing them to the other, the way a
 * userspace stack would read and write them.  The kernel on both sides
 * does the TCP; whatever it reaches through this loop is what a TAP
 * stack could reach at best.
 *
 *   tapfwd NAME0 NAME1 MTU     creates both, prints "ready", forwards
 *                              until killed (move the interfaces to
 *                              their namespaces after "ready")
 */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int tap(const char *name, int mtu) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK), s;
  if (fd < 0)
    return -1;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0)
    return -1;
  s = socket(AF_INET, SOCK_DGRAM, 0);
  ifr.ifr_mtu = mtu;
  ioctl(s, SIOCSIFMTU, &ifr);
  close(s);
  return fd;
}

int main(int argc, char **argv) {
  static unsigned char buf[65536];
  struct pollfd p[2];
  int fd[2], i, k;
  if (argc < 4)
    return 2;
  fd[0] = tap(argv[1], atoi(argv[3]));
  fd[1] = tap(argv[2], atoi(argv[3]));
  if (fd[0] < 0 || fd[1] < 0) {
    perror("tap");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    p[0].fd = fd[0];
    p[1].fd = fd[1];
    p[0].events = p[1].events = POLLIN;
    if (poll(p, 2, -1) < 0)
      return 1;
    for (i = 0; i < 2; i++)
      if (p[i].revents & POLLIN)
        for (k = 0; k < 256; k++) { /* a batch, as synack's driver reads */
          ssize_t n = read(fd[i], buf, sizeof buf);
          if (n <= 0)
            break;
          if (write(fd[1 - i], buf, (size_t)n) < 0) {
            /* full: the frame is dropped, as a NIC queue would */
          }
        }
  }
}
