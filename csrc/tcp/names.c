/* names.c — names and sentences for errors and states, from the lists in
 * synack.h. */
#include <string.h>

#include "../synack.h"

static const char *const err_names[] = {NULL,
#define X(n, s) #n,
                                        SK_ERRORS(X)
#undef X
};

static const char *const err_text[] = {"success",
#define X(n, s) s,
                                       SK_ERRORS(X)
#undef X
};

static const char *const state_names[] = {
#define X(n, s) s,
    SK_STATES(X)
#undef X
};

const char *sk_errname(int err) {
  if (err > 0 || -err >= SK_ERRINDEX_COUNT_)
    return NULL;
  return err == 0 ? "OK" : err_names[-err];
}

const char *sk_strerror(int err) {
  if (err > 0 || -err >= SK_ERRINDEX_COUNT_)
    return "unknown error";
  return err_text[-err];
}

int sk_errcode(const char *name) {
  int i;
  for (i = 1; i < SK_ERRINDEX_COUNT_; i++)
    if (strcmp(err_names[i], name) == 0)
      return -i;
  return SK_OK;
}

static const char *const drop_names[] = {
#define X(n, s, c) s,
    SK_DROPS(X)
#undef X
};

const char *sk_drop_name(int reason) {
  if (reason < 0 || reason >= SK_DROP_COUNT)
    return NULL;
  return drop_names[reason];
}

const char *sk_state_name(int state) {
  if (state < 0 || state >= SK_STATE_COUNT)
    return "?";
  return state_names[state];
}
