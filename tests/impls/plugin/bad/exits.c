/* Calls exit(7) in forward on triggered cases. */
#include <stdlib.h>

#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  if (triggered(p)) exit(7);
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("bad-exits", claims_everything, forward)
