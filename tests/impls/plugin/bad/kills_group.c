/* c-norms that signals its whole process group, kill(0, SIGTERM), in every forward: sharing the
 * host's group it killed the gate (exit 143, no report); in its own it kills only its worker. */
#include <signal.h>

#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  kill(0, SIGTERM);
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-kills-group", forward)
