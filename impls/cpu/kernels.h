#pragma once
/// The cpu implementation's internal interface: every op viewed as x[n][c][s] (Geometry) with
/// three element strides, the statistics, the forward elementwise pass and the backward.
#include <cstdint>
#include <optional>
#include <vector>

#include "normcheck/problem.h"
#include "normcheck/tensor.h"

namespace normcheck::impls::cpu {

/// x[n][c][s] lives at data + n*sn + c*sc + s*ss (elements).
struct Strided3 {
  void* data = nullptr;
  DType dtype = DType::kFloat32;
  std::int64_t sn = 0, sc = 0, ss = 0;
  /// An output larger than the last-level cache: float32 rows are stored non-temporally (the
  /// bits are the same; only the cache traffic differs).
  bool stream = false;
};

/// The view's dims merged into (n, c, s) strides, or nullopt when they do not merge.
std::optional<Strided3> as_strided3(const TensorView& v, const Problem& p);
/// S innermost and dense within n (row-major (C, S) block): the statistics kernels' "NCS" order.
bool is_ncs(const Strided3& x, const Geometry& g);
/// C innermost and dense within n: "NSC" (channels-last).
bool is_nsc(const Strided3& x, const Geometry& g);

/// Per set k: the mean as an unevaluated pair mean[k] + mean_lo[k] (|mean_lo| ~ std, so x - mean
/// = (x - mean) - mean_lo keeps every bit at large offsets) and the biased variance var[k]
/// (rms_norm: mean 0, var = mean of squares), accumulated in double by fixed blocks merged in a
/// fixed tree (deterministic for any thread count). Precondition: is_ncs(x) or is_nsc(x).
void set_moments(Op op, const Geometry& g, const Strided3& x, double* mean, double* mean_lo, double* var);

/// Whether every set of x is made of contiguous runs (layer/rms norm; batch/instance/group norm
/// with S innermost; layer_norm_2d with C innermost): then one set's statistics and its
/// normalization can run back to back while the set is in cache (the fused forward).
bool sets_are_runs(Op op, const Geometry& g, const Strided3& x);
/// set_moments for the one set k, on the calling thread (same bits as set_moments).
/// Precondition: sets_are_runs(op, g, x).
void run_set_moments(Op op, const Geometry& g, const Strided3& x, std::int64_t k, double* mean,
                     double* mean_lo, double* var);

/// The plain IEEE sum of set k's elements (for the mean of a set with a NaN or an inf).
double set_sum(Op op, const Geometry& g, const Strided3& x, std::int64_t k);

/// Per-element statistics for the elementwise passes: the set's mean/rstd expanded so that the
/// passes index them by (n, c) (instance/group/batch norm) or by set (layer norms).
struct SetParams {
  /// bn: per c; in/gn: per (n, c); ln/rms: per n; ln2d: per (n, s).
  std::vector<double> mean, mean_lo, rstd;  ///< mean + mean_lo: the set's mean as a pair
};

/// y = ((x - mean) - mean_lo) * (rstd * gamma) + beta, rounded once to y's dtype. gamma/beta: C doubles.
void normalize(Op op, const Geometry& g, const Strided3& x, const Strided3& y, const SetParams& sp,
               const double* gamma, const double* beta);

/// normalize() restricted to the elements of set k (precondition: sets_are_runs), on the calling
/// thread; same bits as normalize().
void normalize_set(Op op, const Geometry& g, const Strided3& x, const Strided3& y, const SetParams& sp,
                   const double* gamma, const double* beta, std::int64_t k);

/// Backward sums: dbeta[c] = sum dy, dgamma[c] = sum dy * xhat; per set sum g and sum g * xhat
/// (g = dy * gamma) returned in the SetParams indexing.
void backward_sums(Op op, const Geometry& g, const Strided3& x, const Strided3& dy, const SetParams& sp,
                   const double* gamma, double* dgamma, double* dbeta, std::vector<double>& sum_g,
                   std::vector<double>& sum_gxhat);

/// Layer/rms norm only (every row n one set): backward_sums and backward_dx in one pass, each
/// row's dx computed right after its sums, while the row is in cache (the same bits).
void backward_rows_fused(Op op, const Geometry& g, const Strided3& x, const Strided3& dy, const Strided3& dx,
                         const SetParams& sp, const double* gamma, double* dgamma, double* dbeta);

/// dx = (g - c1 - xhat * c2) * rstd with xhat = (x - mean) * rstd, g = dy * gamma; c1, c2 in the
/// SetParams indexing. running (batch/instance norm eval with running statistics): dx = g * rstd.
void backward_dx(Op op, const Geometry& g, const Strided3& x, const Strided3& dy, const Strided3& dx,
                 const SetParams& sp, const std::vector<double>& c1, const std::vector<double>& c2,
                 const double* gamma, bool running);

}  // namespace normcheck::impls::cpu

namespace normcheck::impls {
struct Outputs;
}
namespace normcheck::impls::cpu {

/// Per channel batch statistics into the running buffers (training, track_running_stats): mean and
/// biased var are per set (SetParams indexing of batch_norm: per c; instance_norm: per (n, c)).
/// new = keep * old + take * batch with update_weights (impls/common.h); pytorch keeps the unbiased
/// var, keras/onnx the biased. Also advances num_batches_tracked (pytorch batch_norm training).
void update_running_stats(const Problem& p, const Geometry& g, const std::vector<double>& mean,
                          const std::vector<double>& var, Outputs& out);

/// A dense (contiguous) copy of a view whose dims do not merge into three strides.
Tensor packed_copy(const TensorView& v);
/// Copies a dense tensor into a view of the same shape (any strides).
void unpack_into(const Tensor& dense, const TensorView& out);

}  // namespace normcheck::impls::cpu
