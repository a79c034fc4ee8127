/* c-norms that never computes anything: supports() as the example's, forward returns NC_OK and
 * writes nothing (the NaN poison stays in every output). */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p, (void)t, (void)msg, (void)len;
  return NC_OK;
}
NC_C_NORMS_BUT("computes-nothing", c_norms_supports, forward)
