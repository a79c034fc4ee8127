/* What the deliberately bad plugins share: a supports() that claims everything, a forward that
 * copies x to y (for the cases that should succeed), and a macro for the table and entry symbol. */
#ifndef NC_BAD_PLUGIN_H_
#define NC_BAD_PLUGIN_H_

#include <string.h>

#include "normcheck_plugin.h"

static inline int claims_everything(const nc_problem* p, char* reason, size_t len) {
  (void)p;
  (void)reason;
  (void)len;
  return 1;
}

/* y = x, element for element (both dense in the same layout in normcheck's shared region). */
static inline void copy_x_to_y(const nc_tensors* t) {
  int64_t n = 1;
  for (int i = 0; i < t->x->ndim; ++i) n *= t->x->shape[i];
  memcpy(t->y->data, t->x->data, (size_t)n * t->x->dtype.bits / 8);
}

/* Cases whose x has this leading dim trigger the bad behaviour; other cases succeed (y = x). */
#define NC_TRIGGER_DIM 13
static inline int triggered(const nc_problem* p) { return p->shape[0] == NC_TRIGGER_DIM; }

#define NC_BAD_PLUGIN(NAME, SUPPORTS, FORWARD)                                                    \
  static const nc_plugin_v1 kTable = {                                                            \
      NORMCHECK_PLUGIN_ABI_VERSION, 0, NAME, "deliberately bad: " NAME, SUPPORTS, FORWARD, NULL}; \
  NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return &kTable; }

#endif
