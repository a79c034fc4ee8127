/* c-norms that hangs on every 3rd forward in a worker process (a deadlock that needs two calls
 * before it): every such call runs into the timeout, whatever its case. Shrinking must end within
 * its budget; a case of one forward replayed on a fresh worker passes (FLAKY), a case of three
 * (a property that calls forward three times) hangs again (FAILED). */
#include <unistd.h>

#include "norms_base.h"

static int g_calls = 0;

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  if (++g_calls % 3 == 0)
    for (;;) sleep(1); /* until the gate's timeout kills the worker */
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-times-out-sometimes", forward)
