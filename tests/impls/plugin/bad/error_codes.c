/* Returns each kind of error by x's leading dim: 2 NC_ERROR_INPUT, 3 NC_ERROR_UNSUPPORTED,
 * 5 an unknown code (42) with a message of two lines and no terminator, 7 an error without a message. */
#include <stdio.h>

#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  switch (p->shape[0]) {
    case 2:
      snprintf(msg, len, "Expected more than 1 value per channel when training, got input size [2]");
      return NC_ERROR_INPUT;
    case 3:
      snprintf(msg, len, "this build has no float64 kernels");
      return NC_ERROR_UNSUPPORTED;
    case 5:
      memset(msg, 'z', len); /* no NUL anywhere */
      msg[0] = 'a';
      msg[1] = '\n';
      return 42;
    case 7:
      return NC_ERROR_INTERNAL;
    default:
      copy_x_to_y(t);
      return NC_OK;
  }
}
NC_BAD_PLUGIN("bad-error-codes", claims_everything, forward)
