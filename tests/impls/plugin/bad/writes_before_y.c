/* Stores one float just before y's first element: in a contiguous layout that is the guard before
 * y, in a strided one (y starts at element (1, 1, ...) of a buffer one larger per dim) a gap. */
#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  if (p->layout == NC_LAYOUT_CONTIGUOUS) copy_x_to_y(t);
  ((float*)t->y->data)[-1] = 0.0f;
  return NC_OK;
}
NC_BAD_PLUGIN("bad-writes-before-y", claims_everything, forward)
