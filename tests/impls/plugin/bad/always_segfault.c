/* c-norms whose forward always dereferences NULL (SIGSEGV in the worker). */
#include "norms_base.h"

/* Opaque to the optimizer, so the store is a real store to address 0, not a trap. */
static int* volatile g_null = NULL;

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p, (void)t, (void)msg, (void)len;
  *g_null = 1;
  return NC_OK;
}
NC_C_NORMS_BUT("always-segfault", c_norms_supports, forward)
