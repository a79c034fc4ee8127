/* c-norms whose layer_norm saved mean is 8 float32 ulps off: every convention of PyTorch's profile
 * kept, accuracy failures only (the profile fingerprint must say so). */
#include "norms_base.h"
#include "defects.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  if (code == NC_OK) shift_layer_norm_mean(p, t);
  return code;
}
NC_BAD_NORMS("bad-mean-off", forward)
