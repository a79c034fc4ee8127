/* Calls abort() in forward on triggered cases (a failed assert, an uncaught C++ exception). */
#include <stdlib.h>

#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  if (triggered(p)) abort();
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("bad-abort", claims_everything, forward)
