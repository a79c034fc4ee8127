/* A plugin for tests/tools/gate_test.cc: the example plugin (examples/plugin/c_norms.c) without its
 * backward function, named "c-norms-forward". Its backward-only rows (dx_sums, constant dy) are
 * SKIPPED, which a policy must allow for the plugin to conform. */
#include "normcheck_plugin.h"

#define normcheck_plugin_entry c_norms_full_entry
#include "c_norms.c"
#undef normcheck_plugin_entry

NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) {
  static nc_plugin_v1 table;
  table = *c_norms_full_entry();
  table.name = "c-norms-forward";
  table.description = "c-norms without backward (a gate_test fixture)";
  table.backward = NULL;
  return &table;
}
