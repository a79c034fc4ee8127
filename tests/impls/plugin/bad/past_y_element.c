/* c-norms with a vectorized layer_norm's tail bug: rows whose length is not a multiple of 8 get
 * one more element stored after y's last one (it lands in the shared region's padding). */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  const geometry g = geometry_of(p);
  if (code == NC_OK && p->op == NC_OP_LAYER_NORM && g.D % 8 != 0) data_of(t->y)[numel_of_y(t)] = 0.0f;
  return code;
}
NC_BAD_NORMS("bad-past-y-element", forward)
