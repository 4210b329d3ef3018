/*
 * random.c — secrets for stacks that live outside the simulator: 16 bytes
 * from the kernel's CSPRNG (getrandom(2)), read when a live stack is
 * created.  The core itself never reads a random device.
 */
#include <errno.h>
#include <sys/random.h>

#include "synack.h"

int sk_random(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return SK_ENOBUFS; /* ENOSYS on a kernel older than 3.17 */
    }
    p += r;
    n -= (size_t)r;
  }
  return SK_OK;
}
