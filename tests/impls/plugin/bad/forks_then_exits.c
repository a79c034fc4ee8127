/* c-norms that, on the triggered cases (on every call with NC_BAD_EVERY_CALL set), forks a child
 * holding the worker's descriptors (bad/sleeper.h) and exits with status 3: the host must see the
 * worker's exit, not wait for EOF on a socket the child still holds (that made it "plugin timed
 * out"). */
#include "bad_plugin.h"
#include "norms_base.h"
#include "sleeper.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  if (triggered(p) || getenv("NC_BAD_EVERY_CALL") != NULL) {
    fork_sleeper();
    exit(3);
  }
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-forks-then-exits", forward)
