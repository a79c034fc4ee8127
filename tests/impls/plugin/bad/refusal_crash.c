/* c-norms that dies of SIGSEGV where PyTorch refuses (batch_norm training, one value per channel). */
#include "norms_base.h"

static int* volatile g_null = NULL; /* opaque to the optimizer: a real store to address 0 */

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  if (is_refusal_case(p)) *g_null = 1;
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-refusal-crash", forward)
