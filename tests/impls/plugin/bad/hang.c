/* Spins forever in forward on triggered cases. */
#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  volatile unsigned long spins = 0;
  while (triggered(p)) ++spins;
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("bad-hang", claims_everything, forward)
