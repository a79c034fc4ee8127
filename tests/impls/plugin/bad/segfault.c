/* Dereferences NULL in forward on triggered cases. */
#include "bad_plugin.h"

/* Opaque to the optimizer, so the store is a real store to address 0 (SIGSEGV), not a trap. */
static int* volatile g_null = NULL;

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  if (triggered(p)) *g_null = 1;
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("bad-segfault", claims_everything, forward)
