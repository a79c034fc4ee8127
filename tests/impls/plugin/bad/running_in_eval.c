/* c-norms that moves running_mean in eval mode too (where forward must only read it). */
#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  if (code == NC_OK && uses_running_stats(p)) data_of(t->running_mean)[0] += 1.0f;
  return code;
}
NC_BAD_NORMS("bad-running-in-eval", forward)
