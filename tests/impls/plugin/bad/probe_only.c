/* c-norms that says yes to the gate's capability probe only and refuses every other problem: the
 * probe alone must not make it conforming (no case of any required combination is compared). */
#include "norms_base.h"

static int supports(const nc_problem* p, char* reason, size_t len) {
  if (is_probe(p)) return 1;
  snprintf(reason, len, "only the capability probe is supported");
  return 0;
}
NC_C_NORMS_BUT("probe-only", supports, c_norms_forward)
