/* A plugin whose name is not a name: a newline and a terminal escape in it. The gate must still
 * answer with ONE line and exit code 3, with the escape never printed raw
 * (tests/tools/malformed_input_test.cc). */
#include "bad_plugin.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)p;
  (void)msg;
  (void)len;
  copy_x_to_y(t);
  return NC_OK;
}

NC_BAD_PLUGIN("two\nlines\x1b[2J", claims_everything, forward)
