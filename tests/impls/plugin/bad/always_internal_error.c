/* c-norms whose forward always fails with NC_ERROR_INTERNAL. */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p, (void)t;
  snprintf(msg, len, "internal error (deliberately, on every call)");
  return NC_ERROR_INTERNAL;
}
NC_C_NORMS_BUT("always-internal-error", c_norms_supports, forward)
