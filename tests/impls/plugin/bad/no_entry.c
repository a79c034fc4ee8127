/* A shared library without the entry symbol (its table is there, under another name). */
#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p;
  (void)msg;
  (void)len;
  copy_x_to_y(t);
  return NC_OK;
}
static const nc_plugin_v1 kTable = {
    NORMCHECK_PLUGIN_ABI_VERSION, 0, "bad-no-entry", "", claims_everything, forward, NULL};
NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry_v0(void) { return &kTable; }
