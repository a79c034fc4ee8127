/* c-norms whose supports() crashes (SIGSEGV) on the gate's capability probe: a crash is a failure,
 * not a yes. */
#include "norms_base.h"

static int* volatile g_null = NULL;

static int supports(const nc_problem* p, char* reason, size_t len) {
  if (is_probe(p)) *g_null = 1;
  return c_norms_supports(p, reason, len);
}
NC_C_NORMS_BUT("probe-supports-crash", supports, c_norms_forward)
