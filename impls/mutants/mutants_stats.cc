// Mutants of the statistics: the variance formula, the accumulation type and order, eps, the
// saved statistics, NaN propagation. Each changes one hook of the base (impls/mutants/base.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "impls/mutants/mutant.h"

namespace normcheck::impls::mutants {
namespace {

std::optional<std::string> refuses_rms(const Problem& p) {
  if (p.op == Op::kRmsNorm)
    return "the bug is in the variance: rms_norm (no mean, no variance) not supported";
  return std::nullopt;
}

/// The textbook one-pass variance var = E[x^2] - E[x]^2 (clamped at 0, as shipped kernels do),
/// which cancels catastrophically when |mean| >> std: its error grows with (mean/std)^2 where a
/// two-pass or Welford variance grows with mean/std. Shipped in countless hand-written kernels
/// and in early fused BatchNorm CUDA kernels (the sum / sum-of-squares reduction).
class OnePassVariance final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  Moments moments(std::span<const double> xs, bool centered, const Acc& acc) const override {
    if (!centered) return Base::moments(xs, centered, acc);
    // Scalar math: mean = sum(X) / M;  var = max(sum(X^2) / M - mean^2, 0)
    const double m = acc(static_cast<double>(xs.size()));
    std::vector<double> squares(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) squares[i] = acc(xs[i] * xs[i]);
    const double mean = acc(sum(xs, acc) / m);
    const double mean_square = acc(sum(squares, acc) / m);
    return {mean, std::max(acc(mean_square - acc(mean * mean)), 0.0)};
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (auto why = refuses_rms(p)) return why;
    return needs_batch_stats(p);
  }
};

/// Half-precision arithmetic for half-precision data: the statistics and the normalization
/// accumulate in float16 instead of float32 (a "native fp16" kernel; PyTorch's and cuDNN's
/// accumulate in float32 precisely because of this).
class Fp16Accumulation final : public Mutant {
 public:
  explicit Fp16Accumulation(const MutantInfo& info) : Mutant(info) {
    caps_.dtypes = {DType::kFloat16, DType::kBFloat16};
  }

 protected:
  DType accumulator(DType) const override { return DType::kFloat16; }
};

/// eps added OUTSIDE the square root: rstd = 1 / (sqrt(var) + eps). Shipped in many hand-written
/// LayerNorms (e.g. the Annotated Transformer's (x - mean) / (std + eps)); a relative change of
/// about eps * (1/std - 1/(2 var)), large for small variances.
class EpsOutsideSqrt final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  double rstd_of(double var, double eps, const Acc& acc) const override {
    // Scalar math: rstd = 1 / (sqrt(var) + eps)
    return acc(1.0 / acc(acc(std::sqrt(var)) + eps));
  }
};

/// eps kept in a float16 register with flush-to-zero: every eps below float16's smallest normal
/// (2^-14 ~ 6.1e-5) becomes 0, PyTorch's default 1e-5 included, and a constant set divides 0 by
/// 0 (half-precision kernels that store the scalar in the data type under FTZ/DAZ).
class EpsFlushedFp16 final : public Mutant {
 public:
  explicit EpsFlushedFp16(const MutantInfo& info) : Mutant(info) { caps_.dtypes = {DType::kFloat16}; }

 protected:
  double effective_eps(const Problem& p) const override {
    const double eps = Base::effective_eps(p);
    return eps < info(DType::kFloat16).min_normal ? 0.0 : eps;
  }
};

/// The output normalized with the UNBIASED variance (divide by m - 1): torch.var's default
/// (correction=1) used where the layer needs the population variance, as the seed GroupNorm does.
class UnbiasedOutputVariance final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  Moments moments(std::span<const double> xs, bool centered, const Acc& acc) const override {
    // Scalar math: var = sum((X - mean)^2) / (M - 1)
    Moments st = Base::moments(xs, centered, acc);
    const double m = static_cast<double>(xs.size());
    st.var = acc(acc(st.var * acc(m)) / acc(m - 1));
    return st;
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (auto why = refuses_rms(p)) return why;
    return needs_batch_stats(p);
  }
};

/// A tensor-wide pre-scaling shared by every set: x is scaled by 2^-e, with 2^e >= max |x| over
/// the WHOLE tensor (a NaN-propagating amax, like torch.amax), to keep the sum of squares in
/// range; exact for finite data, but one NaN anywhere makes the scale NaN and poisons every set
/// (the class of bug where a shared max, scale or accumulator carries a NaN across rows:
/// amax-based scaling in low-precision kernels).
class NanLeaksAcrossSets final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  std::vector<Moments> set_moments(const Partition& sets, const std::vector<double>& X, bool centered,
                                   const Acc& acc) const override {
    double amax = 0;
    for (const double v : X) amax = std::isnan(v) || std::fabs(v) > amax ? std::fabs(v) : amax;
    // Scalar math: scale = 2^-ceil(log2(amax));  moments(X) = moments(X * scale) / scale^(1, 2)
    const double scale = amax == 0 ? 1.0 : std::exp2(-std::ceil(std::log2(amax)));
    std::vector<double> scaled(X.size());
    for (std::size_t i = 0; i < X.size(); ++i) scaled[i] = X[i] * scale;
    std::vector<Moments> st = Base::set_moments(sets, scaled, centered, acc);
    for (Moments& s : st) {
      s.mean /= scale;
      s.var /= scale * scale;
    }
    return st;
  }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_batch_stats(p); }
};

/// A reduction whose order changes from call to call (an atomicAdd / unordered parallel
/// reduction; here a call counter rotates where every sum starts): each call is within the
/// bound, but repeated calls on the same inputs give different bits.
class NondeterministicSumOrder final : public Mutant {
 public:
  using Mutant::Mutant;
  Status run(const Problem& p, const Inputs& in, Outputs& out) override {
    ++calls_;
    return Base::run(p, in, out);
  }

 protected:
  double sum(std::span<const double> v, const Acc& acc) const override {
    if (v.empty()) return 0;
    std::vector<double> rotated(v.begin(), v.end());
    std::rotate(rotated.begin(), rotated.begin() + static_cast<std::ptrdiff_t>(calls_ % v.size()),
                rotated.end());
    return Base::sum(rotated, acc);
  }

 private:
  std::uint64_t calls_ = 0;
};

/// RMSNorm that subtracts the mean first (a LayerNorm without bias): the ports that reuse a
/// LayerNorm kernel for RMSNorm.
class RmsSubtractsMean final : public Mutant {
 public:
  explicit RmsSubtractsMean(const MutantInfo& info) : Mutant(info) { caps_.ops = {Op::kRmsNorm}; }

 protected:
  bool centers(Op) const override { return true; }
};

/// eps=None read as the machine epsilon of float64 (2^-52) whatever the dtype, instead of the
/// input dtype's (float32: 2^-23; float16: 2^-10): torch.finfo(torch.float64).eps hard-coded, or a
/// default taken from the wrong dtype.
class EpsNoneFloat64Epsilon final : public Mutant {
 public:
  explicit EpsNoneFloat64Epsilon(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kRmsNorm};  // eps=None is rms_norm's (validate() refuses it elsewhere)
    caps_.dtypes = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};
  }

 protected:
  double effective_eps(const Problem& p) const override {
    return p.eps ? *p.eps : info(DType::kFloat64).epsilon;
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (p.eps) return "the bug is in eps=None: a given eps not supported";
    return std::nullopt;
  }
};

/// The saved rstd buffer holds the standard deviation sqrt(var + eps) instead of its inverse
/// (the "save_std vs save_invstd" mix-up between frameworks' conventions: cuDNN saves the inverse).
class SavedRstdIsStd final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  double saved_rstd(double, const Moments& st, double eps, const Acc& acc) const override {
    return acc(std::sqrt(acc(st.var + eps)));
  }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_batch_stats(p); }
};

/// A naive left-to-right sum in float32: its error grows with the set size m (gamma_{m-1}), not
/// with log2 m as a pairwise, blocked or tree reduction's does; over long sets at an offset it
/// loses the mean (the scalar fallback loops of many kernels).
class SequentialSum final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  double sum(std::span<const double> v, const Acc& acc) const override {
    // Scalar math: s = ((v0 + v1) + v2) + ...
    double s = 0;
    for (const double e : v) s = acc(s + e);
    return s;
  }
};

}  // namespace

void add_stats_mutants(std::vector<MutantEntry>& out) {
  out.push_back(entry<OnePassVariance>(
      {"mutant-one-pass-variance", "variance as E[x^2] - E[x]^2 (one pass), clamped at 0", "statistics",
       "layer_norm shape=4x256 normalized_shape=256 seed=1 values=uniform:10000:1"}));
  out.push_back(entry<Fp16Accumulation>(
      {"mutant-fp16-accumulation", "16-bit data accumulated and normalized in float16 instead of float32",
       "precision",
       "layer_norm shape=4x2048 normalized_shape=2048 dtype=float16 seed=2 values=uniform:8:1"}));
  out.push_back(
      entry<EpsOutsideSqrt>({"mutant-eps-outside-sqrt", "rstd = 1 / (sqrt(var) + eps)", "epsilon",
                             "layer_norm shape=4x64 normalized_shape=64 seed=3 values=uniform:0:0.1"}));
  out.push_back(entry<EpsFlushedFp16>(
      {"mutant-eps-flushed-fp16", "float16: eps below 2^-14 (fp16's smallest normal) flushed to 0", "epsilon",
       "layer_norm shape=4x64 normalized_shape=64 dtype=float16 seed=4 values=constant:1.5"}));
  out.push_back(entry<UnbiasedOutputVariance>(
      {"mutant-unbiased-output-variance", "output normalized with the unbiased variance (divides by m - 1)",
       "statistics", "group_norm shape=2x4x2x2 groups=2 seed=5"}));
  out.push_back(entry<NanLeaksAcrossSets>(
      {"mutant-nan-leaks-across-sets", "a tensor-wide amax pre-scale: one NaN poisons every set",
       "nan-propagation", "layer_norm shape=4x16 normalized_shape=16 seed=6 values=nan"}));
  out.push_back(entry<NondeterministicSumOrder>(
      {"mutant-nondeterministic-sum-order", "summation order changes from call to call (different bits)",
       "determinism", "layer_norm shape=8x1000 normalized_shape=1000 seed=7", "bits"}));
  out.push_back(
      entry<RmsSubtractsMean>({"mutant-rms-subtracts-mean", "rms_norm subtracts the mean first", "statistics",
                               "rms_norm shape=4x64 normalized_shape=64 seed=8 values=uniform:0.5:1"}));
  out.push_back(entry<EpsNoneFloat64Epsilon>(
      {"mutant-eps-none-float64-epsilon", "eps=None uses float64's machine epsilon for every dtype",
       "epsilon",
       "rms_norm shape=4x64 normalized_shape=64 dtype=float32 eps=none seed=9 values=uniform:0:0.001"}));
  out.push_back(
      entry<SavedRstdIsStd>({"mutant-saved-rstd-is-std", "saved rstd holds sqrt(var + eps), not its inverse",
                             "saved-stats", "layer_norm shape=4x64 normalized_shape=64 seed=10"}));
  out.push_back(entry<SequentialSum>(
      {"mutant-sequential-sum", "naive left-to-right float32 sums (error grows with m, not log m)",
       "precision", "layer_norm shape=1x65536 normalized_shape=65536 seed=11 values=uniform:100.3:0.01"}));
}

}  // namespace normcheck::impls::mutants
