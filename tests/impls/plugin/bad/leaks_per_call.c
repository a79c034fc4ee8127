/* c-norms that leaks 256 MiB on every forward and never frees it: under the worker's memory limit
 * the allocation fails every few calls in one worker (which the plugin does not check: it writes
 * through the NULL it got), and never on the first call of a fresh one. A failure that depends on
 * the calls before it, not on the case: shrinking must end within its budget and the replay of
 * the minimal case on a fresh worker passes (FLAKY). */
#include <stdlib.h>

#include "norms_base.h"

/* The last block escapes here, so the optimizer keeps every malloc. */
static char* volatile g_leaked = NULL;

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  g_leaked = malloc((size_t)256 << 20);
  g_leaked[0] = 1; /* the leak's first page, and a SIGSEGV when the limit was hit */
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-leaks-per-call", forward)
