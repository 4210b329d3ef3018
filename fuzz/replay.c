/*
 * replay.c — runs a fuzz target over files, without libFuzzer: the seed
 * corpus and every input that once crashed (fuzz/regressions/) become
 * tests of the normal and sanitizer builds.  Arguments are files or
 * directories.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  if (!f)
    return 0;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    return 0;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 1;
}

static int run_path(const char *path) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  int count = 0;
  char sub[4096];
  if (stat(path, &st) != 0)
    return 0;
  if (!S_ISDIR(st.st_mode))
    return run_file(path);
  if (!(d = opendir(path)))
    return 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    count += run_path(sub);
  }
  closedir(d);
  return count;
}

int main(int argc, char **argv) {
  int i, count = 0;
  for (i = 1; i < argc; i++)
    count += run_path(argv[i]);
  printf("%s: %d inputs replayed, 0 failed\n", argv[0], count);
  return count > 0 ? 0 : 1;
}
