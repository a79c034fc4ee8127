/* The bad plugins that are the example plugin (examples/plugin/c_norms.c: a correct float32
 * LayerNorm and BatchNorm) but for one misbehaviour, so that the gate's verdict on them is about
 * that misbehaviour alone. The example's code is included with its entry symbol renamed. */
#ifndef NC_C_NORMS_BUT_H_
#define NC_C_NORMS_BUT_H_

#include <string.h>

#include "normcheck_plugin.h"

/* Each plugin uses some of the example's functions, not all. */
#pragma GCC diagnostic ignored "-Wunused-function"
#define normcheck_plugin_entry c_norms_entry
#include "c_norms.c"
#undef normcheck_plugin_entry

/* The gate's capability probe (tools/normcheck/gate_cmd.cc, probe_problem): the profile's defaults
 * on shape 2x4x3 with seed 0, a descriptor no generated case has. */
static inline int is_probe(const nc_problem* p) {
  return p->ndim == 3 && p->shape[0] == 2 && p->shape[1] == 4 && p->shape[2] == 3 && p->descriptor != NULL &&
         strstr(p->descriptor, " seed=0 ") != NULL;
}

#define NC_C_NORMS_BUT(NAME, SUPPORTS, FORWARD)                                                       \
  static const nc_plugin_v1 kBadTable = {NORMCHECK_PLUGIN_ABI_VERSION, NC_PLUGIN_SAVES_STATS, NAME,      \
                                         "c-norms but " NAME, SUPPORTS, FORWARD, c_norms_backward};     \
  NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return &kBadTable; }

#endif
