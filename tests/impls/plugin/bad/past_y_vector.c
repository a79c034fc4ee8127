/* c-norms whose layer_norm stores a whole 16-float (AVX-512) vector after y's last element. */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  if (code == NC_OK && p->op == NC_OP_LAYER_NORM) {
    float* past = data_of(t->y) + numel_of_y(t);
    for (int k = 0; k < 16; ++k) past[k] = 1.0f;
  }
  return code;
}
NC_BAD_NORMS("bad-past-y-vector", forward)
