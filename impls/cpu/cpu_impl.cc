// The "cpu" implementation: checks the inputs once, reduces the problem to x[n][c][s]
// (Geometry), and runs the statistics, forward, running-statistics and backward parts.
#include <cmath>
#include <string>

#include "impls/common.h"
#include "impls/cpu/cpu.h"
#include "impls/cpu/kernels.h"
#include "impls/cpu/simd-inl.h"
#include "impls/registry.h"

namespace normcheck::impls {
namespace {

using cpu::SetParams;
using cpu::Strided3;

/// A view the kernels can address: its own strides, or a dense copy (kept alive in `keep`).
/// need_ncs_or_nsc: the statistics kernels also need c or s innermost and dense.
Strided3 addressable(const TensorView& v, const Problem& p, const Geometry& g, bool need_ncs_or_nsc,
                     Tensor& keep) {
  if (auto s = cpu::as_strided3(v, p)) {
    if (!need_ncs_or_nsc || cpu::is_ncs(*s, g) || cpu::is_nsc(*s, g)) return *s;
  }
  keep = cpu::packed_copy(v);
  auto s = cpu::as_strided3(keep.view(), p);
  NC_CHECK(s.has_value(), "a dense copy merges into three strides");
  return *s;
}

/// An output view the kernels can write: its own strides, or a dense temporary copied back later.
struct Writable {
  Strided3 s;
  Tensor temp;
  bool copy_back = false;
};
Writable writable(const TensorView& v, const Problem& p) {
  Writable w;
  if (auto s = cpu::as_strided3(v, p)) {
    w.s = *s;
    return w;
  }
  w.temp = Tensor::empty(v.dtype, v.shape);
  w.s = *cpu::as_strided3(w.temp.view(), p);
  w.copy_back = true;
  return w;
}

/// Whether a call that streams `tensors` problem-sized tensors (x and y; x, dy and dx) overflows
/// the last-level cache, so that its outputs are written past it (non-temporal stores: no read
/// of each output line before it is written). 32 MiB: the L3 of one core complex of the
/// project's EPYC (sysconf reports the whole socket's on this VM), about that of current servers.
bool past_the_cache(const Problem& p, std::int64_t tensors) {
  constexpr std::int64_t kLastLevelCacheBytes = std::int64_t{32} << 20;
  return tensors * numel_of(p.shape) * static_cast<std::int64_t>(size_of(p.dtype)) > kLastLevelCacheBytes;
}

class CpuImplementation final : public Implementation {
 public:
  CpuImplementation() {
    caps_.ops.assign(std::begin(kAllOps), std::end(kAllOps));
    caps_.dtypes.assign(std::begin(kAllDTypes), std::end(kAllDTypes));
    caps_.layouts = {Layout::kContiguous, Layout::kChannelsLast};
    caps_.modes = {Mode::kTrain, Mode::kEval};
    caps_.directions = {Direction::kForward, Direction::kBackward};
    caps_.profiles.assign(std::begin(kAllProfiles), std::end(kAllProfiles));
    caps_.devices = {Device::kCPU};
    caps_.saves_stats = true;
  }
  std::string_view name() const override { return "cpu"; }
  std::string_view description() const override {
    return "normcheck's optimized CPU kernels: OpenMP + AVX2, double accumulation, one rounding";
  }
  const Capabilities& capabilities() const override { return caps_; }
  Status run(const Problem& p, const Inputs& in, Outputs& out) override;

 private:
  Capabilities caps_;
};

Status CpuImplementation::run(const Problem& p, const Inputs& in, Outputs& out) {
  const Expected<Geometry> geo = geometry(p);
  if (!geo) return geo.status();
  const Geometry& g = *geo;
  const std::int64_t N = g.N, C = g.C, G = g.G, Cg = g.C / g.G;
  NC_RETURN_IF_ERROR(check_case_views(p, g, in, out));
  NC_RETURN_IF_ERROR(pytorch_refusals(p, g));
  const bool tracked = tracks_running_stats(p);
  const bool backward = p.direction == Direction::kBackward;
  const bool use_running = uses_running_stats(p);
  const double eps = effective_eps(p);

  std::vector<double> gamma(static_cast<std::size_t>(C), 1.0), beta(static_cast<std::size_t>(C), 0.0);
  for (std::int64_t c = 0; c < C; ++c) {
    if (p.affine) gamma[c] = in.weight->get_linear(c);
    if (p.bias) beta[c] = in.bias->get_linear(c);
  }

  Tensor x_keep;
  const Strided3 x = addressable(in.x, p, g, true, x_keep);

  // Statistics, indexed for the elementwise passes (SetParams).
  Writable y = writable(out.y, p);
  y.s.stream = past_the_cache(p, backward ? 3 : 2);
  bool y_done = false;
  SetParams sp;
  std::vector<double> set_mean, set_lo, set_var;
  if (use_running) {
    const std::int64_t reps = p.op == Op::kBatchNorm ? 1 : N;
    sp.mean.resize(static_cast<std::size_t>(reps * C));
    sp.mean_lo.assign(sp.mean.size(), 0.0);
    sp.rstd.resize(sp.mean.size());
    for (std::int64_t c = 0; c < C; ++c) {
      const double rm = out.running_mean->get_linear(c), rv = out.running_var->get_linear(c);
      for (std::int64_t n = 0; n < reps; ++n) {
        sp.mean[n * C + c] = rm;
        sp.rstd[n * C + c] = 1.0 / std::sqrt(rv + eps);
      }
    }
  } else {
    const std::size_t sets = static_cast<std::size_t>(g.num_sets);
    set_mean.resize(sets);
    set_lo.resize(sets);
    set_var.resize(sets);
    std::vector<double> set_rstd(sets);
    const bool gn = p.op == Op::kGroupNorm;  // SetParams per (n, c)
    const std::size_t nsp = gn ? static_cast<std::size_t>(N * C) : sets;
    sp.mean.resize(nsp);
    sp.mean_lo.resize(nsp);
    sp.rstd.resize(nsp);
    // Scalar math: rstd = 1 / sqrt(var + eps), T_ACC = double
    auto finish_set = [&](std::int64_t k) {
      set_rstd[k] = 1.0 / std::sqrt(set_var[k] + eps);
      if (!gn) {
        sp.mean[k] = set_mean[k];
        sp.mean_lo[k] = set_lo[k];
        sp.rstd[k] = set_rstd[k];
        return;
      }
      for (std::int64_t i = (k / G) * C + (k % G) * Cg, e = i + Cg; i < e; ++i) {
        sp.mean[i] = set_mean[k];
        sp.mean_lo[i] = set_lo[k];
        sp.rstd[i] = set_rstd[k];
      }
    };
    if (cpu::sets_are_runs(p.op, g, x)) {
      // Fused: each set's statistics, then its normalization while it is still in cache.
#pragma omp parallel
      {
#pragma omp for schedule(static) nowait
        for (std::int64_t k = 0; k < g.num_sets; ++k) {
          cpu::run_set_moments(p.op, g, x, k, &set_mean[k], &set_lo[k], &set_var[k]);
          finish_set(k);
          cpu::normalize_set(p.op, g, x, y.s, sp, gamma.data(), beta.data(), k);
        }
        if (y.s.stream) cpu::stream_fence();  // this thread's non-temporal stores, before the barrier
      }
      y_done = true;
    } else {
      cpu::set_moments(p.op, g, x, set_mean.data(), set_lo.data(), set_var.data());
      for (std::int64_t k = 0; k < g.num_sets; ++k) finish_set(k);
    }
    // A set with a NaN or an inf: the mean IEEE arithmetic gives (+inf, -inf or NaN), rstd NaN.
    for (std::int64_t k = 0; k < g.num_sets; ++k) {
      if (std::isfinite(set_mean[k] + set_lo[k]) && !std::isnan(set_var[k])) continue;
      if (g.set_size > 0 && p.op != Op::kRmsNorm)
        set_mean[k] = cpu::set_sum(p.op, g, x, k) / static_cast<double>(g.set_size);
      set_lo[k] = 0;
      set_var[k] = set_rstd[k] = std::nan("");
    }
    if (out.mean && p.op != Op::kRmsNorm)
      for (std::int64_t k = 0; k < g.num_sets; ++k) out.mean->set_linear(k, set_mean[k] + set_lo[k]);
    if (out.rstd)
      for (std::int64_t k = 0; k < g.num_sets; ++k) out.rstd->set_linear(k, set_rstd[k]);
  }
  if (tracked) {
    std::vector<double> full_mean(set_mean.size());
    for (std::size_t k = 0; k < set_mean.size(); ++k) full_mean[k] = set_mean[k] + set_lo[k];
    cpu::update_running_stats(p, g, full_mean, set_var, out);
  }

  if (!y_done) cpu::normalize(p.op, g, x, y.s, sp, gamma.data(), beta.data());
  if (y.copy_back) cpu::unpack_into(y.temp, out.y);
  if (!backward) return {};

  Tensor dy_keep;
  const Strided3 dy = addressable(*in.grad_output, p, g, false, dy_keep);
  std::vector<double> dgamma(static_cast<std::size_t>(C)), dbeta(static_cast<std::size_t>(C));
  Writable dx = writable(*out.dx, p);
  dx.s.stream = past_the_cache(p, 3);
  auto finish_backward = [&] {
    if (dx.copy_back) cpu::unpack_into(dx.temp, *out.dx);
    if (out.dweight)
      for (std::int64_t c = 0; c < C; ++c) out.dweight->set_linear(c, dgamma[c]);
    if (out.dbias)
      for (std::int64_t c = 0; c < C; ++c) out.dbias->set_linear(c, dbeta[c]);
  };
  if (p.op == Op::kLayerNorm || p.op == Op::kRmsNorm) {  // each row one set: one pass per row
    cpu::backward_rows_fused(p.op, g, x, dy, dx.s, sp, gamma.data(), dgamma.data(), dbeta.data());
    finish_backward();
    return {};
  }
  std::vector<double> sum_g, sum_gx;
  cpu::backward_sums(p.op, g, x, dy, sp, gamma.data(), dgamma.data(), dbeta.data(), sum_g, sum_gx);
  std::vector<double> c1(sp.mean.size(), 0.0), c2(sp.mean.size(), 0.0);
  if (!use_running) {
    const double m = static_cast<double>(g.set_size);
    const bool rms = p.op == Op::kRmsNorm;
    if (p.op == Op::kGroupNorm) {  // fold the channels of a group in channel order
      for (std::int64_t k = 0; k < N * G; ++k) {
        double a = 0, b = 0;
        const std::int64_t i0 = (k / G) * C + (k % G) * Cg;
        for (std::int64_t i = i0; i < i0 + Cg; ++i) {
          a += sum_g[i];
          b += sum_gx[i];
        }
        for (std::int64_t i = i0; i < i0 + Cg; ++i) {
          c1[i] = a / m;
          c2[i] = b / m;
        }
      }
    } else {
      for (std::size_t k = 0; k < c1.size(); ++k) {
        c1[k] = rms ? 0.0 : sum_g[k] / m;
        c2[k] = sum_gx[k] / m;
      }
    }
  }
  cpu::backward_dx(p.op, g, x, dy, dx.s, sp, c1, c2, gamma.data(), use_running);
  finish_backward();
  return {};
}

}  // namespace

void add_cpu_implementations(std::vector<std::unique_ptr<Implementation>>& out) {
  out.push_back(std::make_unique<CpuImplementation>());
}

}  // namespace normcheck::impls
