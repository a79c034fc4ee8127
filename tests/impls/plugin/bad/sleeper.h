/* A child of the worker that sleeps 20 s holding every descriptor the worker has (its socket to
 * the host, its output pipe) and then leaves a mark, "<pid>" appended to $NC_BAD_PIDS.outlived:
 * where the host contains the worker's processes it never wakes. Its pid is appended to the file
 * $NC_BAD_PIDS names, one line each, for the test to look for. */
#ifndef NC_SLEEPER_H_
#define NC_SLEEPER_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static inline void append_pid(const char* suffix, pid_t pid) {
  const char* pids = getenv("NC_BAD_PIDS");
  if (pids == NULL) return;
  char path[4096];
  snprintf(path, sizeof path, "%s%s", pids, suffix);
  FILE* f = fopen(path, "a");
  if (f == NULL) return;
  fprintf(f, "%d\n", (int)pid);
  fclose(f);
}

static inline void fork_sleeper(void) {
  const pid_t pid = fork();
  if (pid == 0) {
    sleep(20);
    append_pid(".outlived", getpid());
    _exit(0);
  }
  if (pid > 0) append_pid("", pid);
}

#endif
