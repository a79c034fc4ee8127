/* c-norms with two distinct defects, each failing several rows: layer_norm's saved mean 8 float32
 * ulps off, and batch_norm's running variance updated with the biased variance. The gate must name
 * exactly two causes. */
#include "norms_base.h"
#include "defects.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  float* before = running_var_before(p, t);
  const int code = c_norms_forward(p, t, msg, len);
  if (code == NC_OK) shift_layer_norm_mean(p, t);
  if (code == NC_OK) bias_running_var(p, t, before);
  else free(before);
  return code;
}
NC_BAD_NORMS("bad-two-defects", forward)
