/* Claims every problem and returns NC_OK without writing anything: the poison stays. */
#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p;
  (void)t;
  (void)msg;
  (void)len;
  return NC_OK;
}
NC_BAD_PLUGIN("bad-writes-nothing", claims_everything, forward)
