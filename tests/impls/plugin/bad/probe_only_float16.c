/* c-norms (float32) that also says yes to float16, but only on the gate's capability probe: under a
 * float16 policy no float16 case is ever compared. */
#include "norms_base.h"

static int supports(const nc_problem* p, char* reason, size_t len) {
  if (p->dtype == NC_DTYPE_FLOAT16 && is_probe(p)) return 1;
  return c_norms_supports(p, reason, len);
}
NC_C_NORMS_BUT("probe-only-float16", supports, c_norms_forward)
