/* An entry symbol that returns NULL. */
#include "bad_plugin.h"

NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return NULL; }
