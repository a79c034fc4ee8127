/* c-norms that normalizes in place as well: x ends up holding y (its outputs are right). */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  if (code == NC_OK && p->direction == NC_DIRECTION_FORWARD)  /* backward still needs x */
    memcpy(t->x->data, t->y->data, (size_t)numel_of_y(t) * sizeof(float));
  return code;
}
NC_BAD_NORMS("bad-modifies-x", forward)
