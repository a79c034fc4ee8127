/* Leaks 16 MiB chunks, touching each, until malloc fails, then writes through the NULL it got. */
#include <stdlib.h>

#include "bad_plugin.h"

/* The last chunk escapes here, so the optimizer keeps every malloc and memset. */
static char* volatile g_last = NULL;

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  (void)msg;
  (void)len;
  const size_t chunk = (size_t)16 << 20;
  while (triggered(p)) {
    char* block = malloc(chunk);
    g_last = block;
    memset(block, 1, chunk);
  }
  copy_x_to_y(t);
  return NC_OK;
}
NC_BAD_PLUGIN("bad-memory-hog", claims_everything, forward)
