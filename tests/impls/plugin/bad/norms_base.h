/* The correct example plugin's math (examples/plugin/c_norms.c, included whole, its entry symbol
 * renamed) under a bad plugin's own table: each bad norms plugin wraps c_norms_forward with one
 * defect on the cases that trigger it and is right everywhere else, so a gate names that defect
 * and nothing more. */
#ifndef NC_NORMS_BASE_H_
#define NC_NORMS_BASE_H_

#include <string.h>

#include "normcheck_plugin.h" /* first, so the real entry's prototype is declared unrenamed */

/* Each plugin uses some of the example's functions, not all. */
#pragma GCC diagnostic ignored "-Wunused-function"
#define normcheck_plugin_entry c_norms_example_entry
#include "c_norms.c"
#undef normcheck_plugin_entry

/* The refusal case of PyTorch's profile: batch_norm on batch statistics with one value per
 * channel ("Expected more than 1 value per channel when training"). */
static inline int is_refusal_case(const nc_problem* p) {
  const geometry g = geometry_of(p);
  return p->op == NC_OP_BATCH_NORM && !uses_running_stats(p) && set_size(&g) == 1;
}

/* y's element count. */
static inline int64_t numel_of_y(const nc_tensors* t) {
  int64_t n = 1;
  for (int i = 0; i < t->y->ndim; ++i) n *= t->y->shape[i];
  return n;
}

/* The gate's capability probe (tools/normcheck/gate_cmd.cc, probe_problem): the profile's defaults
 * on shape 2x4x3 with seed 0, a descriptor no generated case has. */
static inline int is_probe(const nc_problem* p) {
  return p->ndim == 3 && p->shape[0] == 2 && p->shape[1] == 4 && p->shape[2] == 3 && p->descriptor != NULL &&
         strstr(p->descriptor, " seed=0 ") != NULL;
}

/* A table with c-norms' backward and the given supports and forward. */
#define NC_C_NORMS_BUT(NAME, SUPPORTS, FORWARD)                                                       \
  static const nc_plugin_v1 kBadTable = {NORMCHECK_PLUGIN_ABI_VERSION, NC_PLUGIN_SAVES_STATS, NAME,      \
                                         "deliberately bad c-norms: " NAME, SUPPORTS, FORWARD,         \
                                         c_norms_backward};                                            \
  NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return &kBadTable; }
/* ... with c-norms' own supports. */
#define NC_BAD_NORMS(NAME, FORWARD) NC_C_NORMS_BUT(NAME, c_norms_supports, FORWARD)

#endif
