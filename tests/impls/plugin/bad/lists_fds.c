/* c-norms that fails (NC_ERROR_INTERNAL) naming any descriptor above 3 it finds open besides the
 * case's shared memory: the worker must inherit nothing of the host's (its report files, the pipe
 * of a `| cat`, a test's open file). Otherwise correct. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "norms_base.h"

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  static const char kRegion[] = "/memfd:normcheck-case";
  DIR* d = opendir("/proc/self/fd");
  if (d == NULL) return c_norms_forward(p, t, msg, len);
  struct dirent* e;
  int found = 0;
  while (!found && (e = readdir(d)) != NULL) {
    const int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd <= 3 || fd == dirfd(d)) continue;
    char link[64], target[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) continue;
    target[n] = '\0';
    if (strncmp(target, kRegion, sizeof kRegion - 1) == 0) continue;
    snprintf(msg, len, "inherited descriptor %d (%s)", fd, target);
    found = 1;
  }
  closedir(d);
  return found ? NC_ERROR_INTERNAL : c_norms_forward(p, t, msg, len);
}
NC_BAD_NORMS("bad-lists-fds", forward)
