/* c-norms that writes 4 KiB to stdout and 4 KiB to stderr in every call (a smoke run writes more
 * than a pipe holds) and is otherwise correct: its output must need nothing of the host's stdout
 * and stderr (closed, or a pipe nobody reads). With NC_BAD_PRINTS_CRASH set it says so and dies
 * of SIGSEGV instead: its last words belong in the crash message. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "norms_base.h"

static void say_4k(FILE* f, char c) {
  char line[64];
  memset(line, c, sizeof line - 1);
  line[sizeof line - 2] = '\n';
  line[sizeof line - 1] = '\0';
  for (int i = 0; i < 64; ++i) fputs(line, f);
}

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  say_4k(stdout, 'o');
  say_4k(stderr, 'e');
  if (getenv("NC_BAD_PRINTS_CRASH") != NULL) {
    printf("prints: about to crash\n");
    raise(SIGSEGV);
  }
  return c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-prints", forward)
