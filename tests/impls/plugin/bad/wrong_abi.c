/* A table that says ABI version 99. */
#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p;
  (void)msg;
  (void)len;
  copy_x_to_y(t);
  return NC_OK;
}
static const nc_plugin_v1 kTable = {99, 0, "bad-wrong-abi", "", claims_everything, forward, NULL};
NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return &kTable; }
