/* An example normcheck plugin in plain C: float32 LayerNorm and BatchNorm, contiguous tensors,
 * forward and backward, PyTorch conventions (biased variance in the output, unbiased running
 * variance, momentum or the cumulative average). Statistics and outputs are computed in double
 * and rounded once to float32, so it passes normcheck's bounds with room to spare.
 *
 * Build: cc -shared -fPIC -O2 -I<normcheck>/impls/plugin c_norms.c -o libc_norms.so -lm
 * Gate:  normcheck's load_plugin("libc_norms.so") (see examples/plugin/README.md).
 *
 * Scalar math (per normalization set S of m elements, eps inside the square root):
 *   mean = sum(x) / m;  var = sum((x - mean)^2) / m;  rstd = 1 / sqrt(var + eps)
 *   y = (x - mean) * rstd * gamma + beta
 *   dx = rstd / m * (m * g - sum(g) - xhat * sum(g * xhat)),  g = dy * gamma
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normcheck_plugin.h"

/* ---- reading the problem ---- */

/* The few numbers the kernels need: nsets sets of m elements; element (set, k) of x lies at
 * set_base(set) + k * (inner stride); the affine index is `a`. BatchNorm: sets are channels
 * (N, C, S) -> x[(n * C + c) * S + s]; LayerNorm: sets are rows of the M x D matrix. */
typedef struct {
  int is_batch_norm;
  int64_t N, C, S; /* batch_norm: (N, C, prod(spatial)) */
  int64_t M, D;    /* layer_norm: M rows of D = prod(normalized_shape) */
} geometry;

static geometry geometry_of(const nc_problem* p) {
  geometry g;
  memset(&g, 0, sizeof(g));
  g.is_batch_norm = p->op == NC_OP_BATCH_NORM;
  if (g.is_batch_norm) {
    g.N = p->shape[0];
    g.C = p->shape[1];
    g.S = 1;
    for (int i = 2; i < p->ndim; ++i) g.S *= p->shape[i];
  } else {
    g.M = 1;
    g.D = 1;
    for (int i = 0; i < p->ndim; ++i) {
      if (i < p->ndim - p->params.normalized_ndim)
        g.M *= p->shape[i];
      else
        g.D *= p->shape[i];
    }
  }
  return g;
}

static int64_t num_sets(const geometry* g) { return g->is_batch_norm ? g->C : g->M; }
static int64_t set_size(const geometry* g) { return g->is_batch_norm ? g->N * g->S : g->D; }
/* The offset of element k of set `set` in x (row-major). */
static int64_t at(const geometry* g, int64_t set, int64_t k) {
  if (!g->is_batch_norm) return set * g->D + k;
  return (k / g->S * g->C + set) * g->S + k % g->S;
}
/* The affine index of element k of set `set`. */
static int64_t affine_index(const geometry* g, int64_t set, int64_t k) { return g->is_batch_norm ? set : k; }

static float* data_of(const DLTensor* t) { return t ? (float*)((char*)t->data + t->byte_offset) : NULL; }

/* Running statistics are used in eval mode when tracked (otherwise batch statistics). */
static int uses_running_stats(const nc_problem* p) {
  return p->op == NC_OP_BATCH_NORM && p->params.track_running_stats && !p->params.training;
}

/* ---- supports ---- */

static int refuse(char* reason, size_t len, const char* why) {
  snprintf(reason, len, "%s", why);
  return 0;
}

static int c_norms_supports(const nc_problem* p, char* reason, size_t len) {
  if (p->op != NC_OP_BATCH_NORM && p->op != NC_OP_LAYER_NORM)
    return refuse(reason, len, "c-norms implements batch_norm and layer_norm only");
  if (p->dtype != NC_DTYPE_FLOAT32) return refuse(reason, len, "c-norms computes float32 only");
  if (p->layout != NC_LAYOUT_CONTIGUOUS) return refuse(reason, len, "c-norms reads contiguous tensors only");
  if (p->device != NC_DEVICE_CPU) return refuse(reason, len, "c-norms runs on the CPU only");
  if (p->profile != NC_PROFILE_PYTORCH)
    return refuse(reason, len, "c-norms follows PyTorch's conventions only");
  for (int i = 0; i < p->ndim; ++i)
    if (p->shape[i] == 0) return refuse(reason, len, "c-norms does not handle empty tensors");
  return 1;
}

/* ---- forward ---- */

static int c_norms_forward(nc_problem* p, const nc_tensors* t, char* message, size_t len) {
  const geometry g = geometry_of(p);
  const int64_t sets = num_sets(&g), m = set_size(&g);
  const float* x = data_of(t->x);
  const float* gamma = data_of(t->weight);
  const float* beta = data_of(t->bias);
  float* y = data_of(t->y);
  float* rm = data_of(t->running_mean);
  float* rv = data_of(t->running_var);
  const int running = uses_running_stats(p);
  const int update = p->op == NC_OP_BATCH_NORM && p->params.track_running_stats && p->params.training;
  if (!running && m == 1 && p->op == NC_OP_BATCH_NORM) {
    /* PyTorch's refusal, word for word: the suite compares it with the profile's. */
    int n = snprintf(message, len, "Expected more than 1 value per channel when training, got input size [");
    for (int i = 0; i < p->ndim && n > 0 && (size_t)n < len; ++i)
      n += snprintf(message + n, len - (size_t)n, i ? ", %lld" : "%lld", (long long)p->shape[i]);
    if (n > 0 && (size_t)n < len) snprintf(message + n, len - (size_t)n, "]");
    return NC_ERROR_INPUT;
  }
  double f = p->params.momentum;
  if (update) {
    p->params.num_batches_tracked += 1;
    if (!p->params.has_momentum) f = 1.0 / (double)p->params.num_batches_tracked;
  }
  for (int64_t s = 0; s < sets; ++s) {
    double mean, var;
    if (running) {
      mean = rm[s];
      var = rv[s];
    } else {
      double sum = 0, sq = 0;
      for (int64_t k = 0; k < m; ++k) sum += x[at(&g, s, k)];
      mean = sum / (double)m;
      for (int64_t k = 0; k < m; ++k) {
        const double d = x[at(&g, s, k)] - mean;
        sq += d * d;
      }
      var = sq / (double)m;
    }
    const double rstd = 1.0 / sqrt(var + p->params.eps);
    for (int64_t k = 0; k < m; ++k) {
      const int64_t i = at(&g, s, k), a = affine_index(&g, s, k);
      double v = (x[i] - mean) * rstd;
      if (gamma) v *= gamma[a];
      if (beta) v += beta[a];
      y[i] = (float)v;
    }
    if (t->mean) data_of(t->mean)[s] = (float)mean;
    if (t->rstd) data_of(t->rstd)[s] = (float)rstd;
    if (update) {
      rm[s] = (float)((1 - f) * rm[s] + f * mean);
      rv[s] = (float)((1 - f) * rv[s] + f * var * (double)m / (double)(m - 1));
    }
  }
  return NC_OK;
}

/* ---- backward ---- */

static int c_norms_backward(const nc_problem* p, const nc_tensors* t, char* message, size_t len) {
  const geometry g = geometry_of(p);
  const int64_t sets = num_sets(&g), m = set_size(&g);
  const float* x = data_of(t->x);
  const float* dy = data_of(t->grad_output);
  const float* gamma = data_of(t->weight);
  float* dx = data_of(t->dx);
  float* dw = data_of(t->dweight);
  float* db = data_of(t->dbias);
  const int running = uses_running_stats(p);
  const int64_t affine_n = g.is_batch_norm ? g.C : g.D;
  /* dweight / dbias accumulate over sets in double, then round once. */
  double* sw = NULL;
  double* sb = NULL;
  if (dw || db) {
    sw = calloc((size_t)affine_n, sizeof(double));
    sb = calloc((size_t)affine_n, sizeof(double));
    if (!sw || !sb) {
      free(sw);
      free(sb);
      snprintf(message, len, "c-norms: out of memory for %lld affine sums", (long long)affine_n);
      return NC_ERROR_INTERNAL;
    }
  }
  for (int64_t s = 0; s < sets; ++s) {
    double mean, var;
    if (running) {
      mean = data_of(t->running_mean)[s];
      var = data_of(t->running_var)[s];
    } else {
      double sum = 0, sq = 0;
      for (int64_t k = 0; k < m; ++k) sum += x[at(&g, s, k)];
      mean = sum / (double)m;
      for (int64_t k = 0; k < m; ++k) {
        const double d = x[at(&g, s, k)] - mean;
        sq += d * d;
      }
      var = sq / (double)m;
    }
    const double rstd = 1.0 / sqrt(var + p->params.eps);
    double sum_g = 0, sum_gx = 0;
    for (int64_t k = 0; k < m; ++k) {
      const int64_t i = at(&g, s, k), a = affine_index(&g, s, k);
      const double xhat = (x[i] - mean) * rstd;
      const double gi = dy[i] * (gamma ? gamma[a] : 1.0);
      sum_g += gi;
      sum_gx += gi * xhat;
      if (dw || db) {
        sw[a] += dy[i] * xhat;
        sb[a] += dy[i];
      }
    }
    for (int64_t k = 0; k < m; ++k) {
      const int64_t i = at(&g, s, k), a = affine_index(&g, s, k);
      const double xhat = (x[i] - mean) * rstd;
      const double gi = dy[i] * (gamma ? gamma[a] : 1.0);
      /* Eval with running statistics: y is affine in x, dx = g * rstd. */
      dx[i] = (float)(running ? gi * rstd : rstd / (double)m * ((double)m * gi - sum_g - xhat * sum_gx));
    }
  }
  for (int64_t a = 0; (dw || db) && a < affine_n; ++a) {
    if (dw) dw[a] = (float)sw[a];
    if (db) db[a] = (float)sb[a];
  }
  free(sw);
  free(sb);
  return NC_OK;
}

static const nc_plugin_v1 kTable = {
    NORMCHECK_PLUGIN_ABI_VERSION,
    NC_PLUGIN_SAVES_STATS,
    "c-norms",
    "Example C plugin: float32 LayerNorm and BatchNorm (PyTorch conventions), double accumulation",
    c_norms_supports,
    c_norms_forward,
    c_norms_backward,
};

NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) { return &kTable; }
