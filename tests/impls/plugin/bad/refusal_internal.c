/* c-norms that returns NC_ERROR_INTERNAL (with PyTorch's words) where PyTorch refuses: only
 * NC_ERROR_INPUT is the framework's refusal. */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  return code == NC_ERROR_INPUT && is_refusal_case(p) ? NC_ERROR_INTERNAL : code;
}
NC_BAD_NORMS("bad-refusal-internal", forward)
