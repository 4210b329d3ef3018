/*
 * bench/linux/connrate.c — the kernel's connection rate over loopback,
 * one thread: connect(), accept(), then the client ends it with a RST
 * (SO_LINGER {1, 0}) or a FIN (close first, so TIME_WAIT piles up).  Run
 * it in a fresh network namespace (`unshare -n`) so that no earlier
 * TIME_WAIT is in the way.  Also the kernel's memory per idle endpoint,
 * from the slab growth of N connected pairs.
 *
 *   connrate rst N | fin N | mem N
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long slab_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/meminfo", "r");
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Slab: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  int ls, one = 1, rst, i, n;
  double t0, tfirst = 0, tlast = 0;
  if (argc < 3)
    return 2;
  n = atoi(argv[2]);
  rst = strcmp(argv[1], "rst") == 0;
  ls = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
      getsockname(ls, (struct sockaddr *)&a, &alen) < 0) {
    perror("listen");
    return 1;
  }
  if (strcmp(argv[1], "mem") == 0) {
    int *fds = malloc(sizeof(int) * 2 * (size_t)n);
    long before = slab_kb(), after;
    for (i = 0; i < n; i++) {
      fds[2 * i] = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(fds[2 * i], (struct sockaddr *)&a, sizeof a) < 0 ||
          (fds[2 * i + 1] = accept(ls, NULL, NULL)) < 0) {
        perror("connect");
        return 1;
      }
    }
    sleep(1);
    after = slab_kb();
    printf("bytes_per_endpoint %.0f pairs %d\n",
           (double)(after - before) * 1024 / (2.0 * n), n);
    return 0;
  }
  t0 = wall();
  for (i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0), s;
    if (i == n / 10)
      tfirst = wall() - t0;
    if (i == n - n / 10)
      tlast = wall();
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0 ||
        (s = accept(ls, NULL, NULL)) < 0) {
      perror("connect");
      return 1;
    }
    if (rst) {
      struct linger l = {1, 0};
      setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c); /* the client first */
    close(s);
  }
  printf("conn_s %.0f first10_conn_s %.0f last10_conn_s %.0f\n",
         n / (wall() - t0), (n / 10) / tfirst, (n / 10) / (wall() - tlast));
  return 0;
}
