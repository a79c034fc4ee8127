/* c-norms that returns NC_ERROR_UNSUPPORTED where PyTorch refuses (its supports() said yes). */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  if (!is_refusal_case(p)) return c_norms_forward(p, t, msg, len);
  snprintf(msg, len, "one value per channel is not implemented");
  return NC_ERROR_UNSUPPORTED;
}
NC_BAD_NORMS("bad-refusal-unsupported", forward)
