/* c-norms that forks, once per worker, a child that sleeps 20 s (bad/sleeper.h): the child must
 * not outlive its worker, nor hold a gate's `| cat` open. Otherwise correct. */
#include "norms_base.h"
#include "sleeper.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  static int forked = 0;
  if (!forked) fork_sleeper();
  forked = 1;
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-forks-sleeper", forward)
