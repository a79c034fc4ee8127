/* c-norms whose forward leaves a thread behind that crashes the worker about 50 ms after forward
 * returned a correct result: the crash lands in whichever call is running then, or in none. A
 * failure unrelated to the case that shows it: shrinking must end within its budget and the replay
 * of the minimal case on a fresh worker passes (FLAKY), whatever RapidCheck says of it. */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "norms_base.h"

static void* crash_later(void* unused) {
  (void)unused;
  const struct timespec delay = {0, 50 * 1000 * 1000};
  nanosleep(&delay, NULL);
  raise(SIGSEGV);
  return NULL;
}

static int forward(nc_problem* p, const nc_tensors* t, char* msg, size_t len) {
  const int code = c_norms_forward(p, t, msg, len);
  pthread_t thread;
  if (pthread_create(&thread, NULL, crash_later, NULL) == 0) pthread_detach(thread);
  return code;
}
NC_BAD_NORMS("bad-crash-after-return", forward)
