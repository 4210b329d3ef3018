/*
 * dev.c — TAP and AF_PACKET devices (Linux).  Everything is set up with
 * ioctls on the device and on a plain socket; nothing shells out.
 */
#include "dev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../synack.h"
#include "../tcp/wire.h"

static int fail(int err, char *why, size_t cap, const char *fmt,
                const char *arg) {
  snprintf(why, cap, fmt, arg, strerror(errno));
  return err;
}

static int perm_or(int e, int other) {
  return (e == EPERM || e == EACCES) ? SK_EPERM : other;
}

int sk_dev_kernel_has(uint32_t addr) {
  struct ifaddrs *list, *i;
  int found = 0;
  if (getifaddrs(&list) != 0)
    return 0;
  for (i = list; i && !found; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
        ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == addr)
      found = 1;
  freeifaddrs(list);
  return found;
}

static void set_in(struct sockaddr *sa, uint32_t addr) {
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  memset(in, 0, sizeof *in);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(addr);
}

int sk_dev_tap(sk_dev *d, const char *name, uint32_t kaddr, uint32_t kmask,
               uint32_t mtu, char *why, size_t cap) {
  struct ifreq ifr;
  int s, err;
  memset(d, 0, sizeof *d);
  d->kind = SK_DEV_TAP;
  d->fd = -1;
  if (strlen(name) >= IFNAMSIZ) {
    snprintf(why, cap, "interface name '%s' is longer than %d characters", name,
             IFNAMSIZ - 1);
    return SK_EINVAL;
  }
  if (*name && if_nametoindex(name) != 0) {
    snprintf(why, cap, "an interface named '%s' already exists", name);
    return SK_EADDRINUSE;
  }
  if ((d->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
    return fail(perm_or(errno, SK_EINVAL), why, cap,
                "cannot open %s (%s): creating a TAP device needs root or "
                "CAP_NET_ADMIN",
                "/dev/net/tun");
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(d->fd, TUNSETIFF, &ifr) < 0) {
    err = fail(perm_or(errno, errno == EBUSY ? SK_EADDRINUSE : SK_EINVAL), why,
               cap,
               "cannot create TAP device '%s' (%s): it needs root or "
               "CAP_NET_ADMIN",
               name);
    sk_dev_close(d);
    return err;
  }
  memcpy(d->name, ifr.ifr_name, sizeof d->name - 1);
  if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
    err = fail(SK_EINVAL, why, cap, "socket for %s: %s", d->name);
    sk_dev_close(d);
    return err;
  }
  err = SK_OK;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, d->name, IFNAMSIZ);
  ifr.ifr_mtu = (int)mtu;
  if (mtu && ioctl(s, SIOCSIFMTU, &ifr) < 0)
    err = fail(perm_or(errno, SK_EINVAL), why, cap,
               "cannot set the MTU of %s: %s", d->name);
  if (err == SK_OK && kaddr) {
    set_in(&ifr.ifr_addr, kaddr);
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
      err = fail(perm_or(errno, SK_EINVAL), why, cap,
                 "cannot give %s its kernel address: %s", d->name);
    set_in(&ifr.ifr_netmask, kmask);
    if (err == SK_OK && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
      err = fail(perm_or(errno, SK_EINVAL), why, cap,
                 "cannot set the netmask of %s: %s", d->name);
  }
  if (err == SK_OK) {
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, d->name, IFNAMSIZ);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr)) <
            0)
      err = fail(perm_or(errno, SK_EINVAL), why, cap, "cannot bring %s up: %s",
                 d->name);
  }
  close(s);
  if (err != SK_OK)
    sk_dev_close(d);
  d->mtu = mtu;
  return err;
}

int sk_dev_packet(sk_dev *d, const char *ifname, int promiscuous, char *why,
                  size_t cap) {
  struct sockaddr_ll sll;
  struct ifreq ifr;
  int one = 1, err;
  unsigned idx;
  memset(d, 0, sizeof *d);
  d->kind = SK_DEV_PACKET;
  d->fd = -1;
  if (strlen(ifname) >= IFNAMSIZ || (idx = if_nametoindex(ifname)) == 0) {
    snprintf(why, cap, "no network interface named '%s'", ifname);
    return SK_EINVAL;
  }
  memcpy(d->name, ifname, strlen(ifname));
  if ((d->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      htons(ETH_P_ALL))) < 0)
    return fail(perm_or(errno, SK_EINVAL), why, cap,
                "cannot open a raw socket on %s (%s): AF_PACKET needs root or "
                "CAP_NET_RAW",
                ifname);
  /* the kernel says when it left a checksum to the hardware */
  setsockopt(d->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = (int)idx;
  if (bind(d->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    err = fail(perm_or(errno, SK_EINVAL), why, cap, "cannot bind to %s: %s",
               ifname);
    sk_dev_close(d);
    return err;
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, strlen(ifname));
  if (ioctl(d->fd, SIOCGIFHWADDR, &ifr) == 0)
    memcpy(d->mac, ifr.ifr_hwaddr.sa_data, 6);
  if (ioctl(d->fd, SIOCGIFMTU, &ifr) == 0)
    d->mtu = (uint32_t)ifr.ifr_mtu;
  if (promiscuous) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = (int)idx;
    mr.mr_type = PACKET_MR_PROMISC;
    setsockopt(d->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
  }
  return SK_OK;
}

/* Fills in the TCP or UDP checksum the sender's kernel left undone
 * (CHECKSUM_PARTIAL: it holds only the pseudo-header sum). */
static void fill_checksum(uint8_t *f, size_t len) {
  uint8_t *ip = f + 14, *t;
  size_t ihl, tlen;
  uint8_t ph[12];
  uint16_t ck;
  int off;
  if (len < 14 + IP_HDR_LEN || rd16(f + 12) != 0x0800)
    return;
  ihl = (size_t)(ip[0] & 0x0f) * 4;
  if (ihl < IP_HDR_LEN || 14 + ihl > len || rd16(ip + 2) > len - 14 ||
      rd16(ip + 2) < ihl)
    return;
  t = ip + ihl;
  tlen = rd16(ip + 2) - ihl;
  off = ip[9] == IP_PROTO_TCP ? 16 : ip[9] == 17 ? 6 : -1;
  if (off < 0 || tlen < (size_t)off + 2)
    return;
  memcpy(ph, ip + 12, 8);
  ph[8] = 0;
  ph[9] = ip[9];
  wr16(ph + 10, (uint16_t)tlen);
  t[off] = t[off + 1] = 0;
  ck = cksum_fold(cksum_add(cksum_add(0, ph, sizeof ph), t, tlen));
  memcpy(t + off, &ck, 2);
}

long sk_dev_read(sk_dev *d, uint8_t *buf, size_t cap) {
  ssize_t n;
  if (d->kind == SK_DEV_TAP) {
    n = read(d->fd, buf, cap);
  } else {
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } ctl;
    struct sockaddr_ll from;
    struct iovec iov = {buf, cap};
    struct msghdr m;
    struct cmsghdr *c;
    memset(&m, 0, sizeof m);
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = &ctl;
    m.msg_controllen = sizeof ctl;
    for (;;) {
      m.msg_namelen = sizeof from;
      m.msg_controllen = sizeof ctl;
      n = recvmsg(d->fd, &m, MSG_TRUNC);
      /* skip our own frames, looped back, and any larger than a frame */
      if (n > 0 && (from.sll_pkttype == PACKET_OUTGOING || n > (ssize_t)cap))
        continue;
      break;
    }
    for (c = CMSG_FIRSTHDR(&m); n > 0 && c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
          (((struct tpacket_auxdata *)CMSG_DATA(c))->tp_status &
           TP_STATUS_CSUMNOTREADY))
        fill_checksum(buf, (size_t)n);
  }
  if (n < 0)
    return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
  return (long)n;
}

int sk_dev_write(sk_dev *d, const uint8_t *frame, size_t len) {
  ssize_t n = write(d->fd, frame, len);
  if (n >= 0)
    return 1;
  return (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
          errno == EINTR)
             ? 0
             : -1;
}

void sk_dev_close(sk_dev *d) {
  if (d->fd >= 0)
    close(d->fd); /* a TAP device goes with its last fd */
  d->fd = -1;
}
