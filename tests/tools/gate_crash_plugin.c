/* A plugin for tests/tools/gate_test.cc: claims everything, dies of SIGSEGV in every layer_norm
 * forward, and copies x to y for every other op (wrong, so those rows fail on their values). The
 * gate must turn each crash into a FAILED row with its minimal input and keep going. */
#include "bad_plugin.h"

static int* volatile g_null = NULL; /* opaque to the optimizer: a real store to address 0 */

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  if (p->op == NC_OP_LAYER_NORM) *g_null = 1;
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("gate-crash", claims_everything, forward)
