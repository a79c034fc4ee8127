/* Dereferences NULL in supports() on triggered problems. */
#include "bad_plugin.h"

/* Opaque to the optimizer, so the store is a real store to address 0 (SIGSEGV), not a trap. */
static int* volatile g_null = NULL;

static int supports(const nc_problem* p, char* reason, size_t len) {
  (void)reason;
  (void)len;
  if (triggered(p)) *g_null = 1;
  return 1;
}
static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p;
  (void)msg;
  (void)len;
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("bad-supports-crash", supports, forward)
