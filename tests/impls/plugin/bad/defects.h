/* Two distinct defects for the bad c-norms plugins that gate as several failing rows each (issue
 * 14: one bug, many rows; the report groups them into one cause apiece). Included after
 * norms_base.h. */
#ifndef NC_DEFECTS_H_
#define NC_DEFECTS_H_

#include <math.h>
#include <stdlib.h>

/* layer_norm's saved mean 8 float32 ulps above c-norms' (a reduction's last-bits error, beyond
 * the saved mean's bound, within a bfloat16 ulp); y is untouched. */
static inline void shift_layer_norm_mean(const nc_problem* p, const nc_tensors* t) {
  if (p->op != NC_OP_LAYER_NORM || t->mean == NULL) return;
  const geometry g = geometry_of(p);
  float* mean = data_of(t->mean);
  for (int64_t s = 0; s < num_sets(&g); ++s)
    for (int k = 0; k < 8; ++k) mean[s] = nextafterf(mean[s], INFINITY);
}

/* The running variance's copy before forward (NULL where forward does not update it). */
static inline float* running_var_before(const nc_problem* p, const nc_tensors* t) {
  if (p->op != NC_OP_BATCH_NORM || !p->params.track_running_stats || !p->params.training || t->running_var == NULL)
    return NULL;
  const geometry g = geometry_of(p);
  const int64_t c = num_sets(&g);
  float* copy = malloc((size_t)c * sizeof(float));
  if (copy != NULL) memcpy(copy, data_of(t->running_var), (size_t)c * sizeof(float));
  return copy;
}

/* batch_norm's running variance updated with the biased variance var instead of PyTorch's
 * unbiased var * m / (m - 1): forward stored before + f (var m/(m-1) - before), so the biased
 * update is before + (stored - before) (m - 1)/m. Frees before. */
static inline void bias_running_var(const nc_problem* p, const nc_tensors* t, float* before) {
  if (before == NULL) return;
  const geometry g = geometry_of(p);
  const double m = (double)set_size(&g);
  float* rv = data_of(t->running_var);
  for (int64_t c = 0; c < num_sets(&g); ++c) rv[c] = (float)(before[c] + (rv[c] - before[c]) * (m - 1) / m);
  free(before);
}

#endif
