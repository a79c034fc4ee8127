// The running-statistics update of batch_norm and instance_norm in training mode.
#include <algorithm>
#include <cmath>

#include "reference/internal.h"

namespace normcheck::reference::detail {
namespace {

/// One channel's batch contribution: the mean and the variance estimator the profile uses,
/// exact, with the tolerance model's errors for them.
struct Contribution {
  bool finite = true;
  Rational mean, var;
  double mean_d = 0, var_d = 0;
  double mean_err = 0, var_err = 0;
  double mean_abs = 0, var_abs = 0;  ///< mean over the instances of |mean| and |var|
  bool mean_undecided = false, var_undecided = false;  ///< a set's accumulator may overflow (bounds.h)
};

Contribution batch_contribution(const Problem& p, const Sets& sets, const std::vector<SetStats>& stats,
                                const std::vector<StatErrors>& errors, std::int64_t c) {
  const bool unbiased = p.profile == Profile::kPyTorch;
  Contribution ct;
  // batch_norm: channel c is one set. instance_norm: the mean over n of the N instances' stats.
  const std::int64_t instances = p.op == Op::kBatchNorm ? 1 : sets.g.N;
  ct.mean = 0;
  ct.var = 0;
  for (std::int64_t n = 0; n < instances; ++n) {
    const std::int64_t k = p.op == Op::kBatchNorm ? c : n * sets.g.C + c;
    const SetStats& st = stats[k];
    const UndecidedStats undecided = undecided_of(p, st, errors[k]);
    ct.mean_undecided |= undecided.mean;
    ct.var_undecided |= undecided.mean || undecided.squares;
    const double bessel = unbiased ? static_cast<double>(st.m) / static_cast<double>(st.m - 1) : 1.0;
    ct.mean_d += st.mean_d / static_cast<double>(instances);
    ct.var_d += st.var_d * bessel / static_cast<double>(instances);
    ct.mean_err += errors[k].mean / static_cast<double>(instances);
    ct.var_err += errors[k].var * bessel / static_cast<double>(instances);
    // Statistics that are not finite (NaN or inf in the set). A set whose rstd alone is not
    // finite (eps = 0 and a constant set: found by the property suite) has its mean and variance.
    if (!st.finite && !(std::isfinite(st.mean_d) && std::isfinite(st.var_d))) {
      ct.finite = false;
      ct.mean_d = st.nonfinite_mean;
      ct.var_d = std::nan("");
      continue;
    }
    const ExactStats& ex = st.exact();
    const Rational var = unbiased ? ex.var * st.m / (st.m - 1) : ex.var;  // m >= 2 checked by evaluate
    ct.mean += ex.mean / instances;
    ct.var += var / instances;
    ct.mean_abs += std::fabs(st.mean_d) / static_cast<double>(instances);
    ct.var_abs += std::fabs(st.var_d * bessel) / static_cast<double>(instances);
  }
  // instance_norm: the mean over n of N instances' figures is itself a sum of N terms, with a
  // blocked or pairwise sum's gamma_N on their magnitudes (found by the nightly tier at N = 4096).
  if (instances > 1) {
    const double g = AccuracyModel::for_data(p.dtype).gamma(instances);
    ct.mean_err += g * ct.mean_abs;
    ct.var_err += g * ct.var_abs;
  }
  return ct;
}

/// How far PyTorch's other kernels' weights lie from held_momentum's (docs/semantics.md): ATen's
/// CPU path for strided input keeps the momentum a double, its contiguous path for 16-bit data
/// with 16-bit buffers casts it to the data's type; CUDA and the CPU's float32 / float64 paths
/// hold it as held_momentum does. Zero under keras and onnx, whose kernels agree.
struct PyTorchSpread {
  double keep = 0, take = 0;
};
PyTorchSpread pytorch_spread(const Problem& p, const RunningWeights& held, std::int64_t num_batches_tracked) {
  PyTorchSpread s;
  if (p.profile != Profile::kPyTorch) return s;
  const double f = p.momentum ? *p.momentum : 1.0 / static_cast<double>(num_batches_tracked);
  for (const DType t : {DType::kFloat64, p.dtype}) {
    const double take = round_to(t, f), keep = round_to(t, 1.0 - take);
    s.keep = std::max(s.keep, std::fabs(keep - held.keep));
    s.take = std::max(s.take, std::fabs(take - held.take));
  }
  return s;
}

}  // namespace

void running_stats_update(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                          Result& r) {
  const DType t = p.dtype;
  const std::int64_t C = sets.g.C;
  const std::vector<std::int64_t> shape{C};
  r.running_mean = Tensor::from_values(t, shape, d.running_mean);
  r.running_var = Tensor::from_values(t, shape, d.running_var);
  r.num_batches_tracked = d.num_batches_tracked;
  // A training step counts (PyTorch's BatchNorm module increments before it looks at the batch;
  // its InstanceNorm never touches the counter).
  if (p.mode == Mode::kTrain && p.profile == Profile::kPyTorch && p.op == Op::kBatchNorm)
    r.num_batches_tracked = d.num_batches_tracked + 1;
  // Eval reads the buffers and leaves them alone; an empty batch carries no statistics (ATen
  // returns before touching them). Either way the buffers come back unchanged, exactly (bound 0).
  if (p.mode != Mode::kTrain || sets.g.N * sets.g.S == 0) {
    r.running_mean_bound = Tensor::empty(DType::kFloat64, shape);
    r.running_var_bound = Tensor::empty(DType::kFloat64, shape);
    r.running_mean_bound->fill(0);
    r.running_var_bound->fill(0);
    return;
  }

  // new = keep old + take batch with the weights as the profile's framework holds them
  // (held_momentum: pytorch keep = 1 - f, take = f; keras, onnx keep = momentum, take = 1 - momentum).
  const RunningWeights w = held_momentum(p, r.num_batches_tracked);
  const Rational keep = to_rational(w.keep), take = to_rational(w.take);
  const PyTorchSpread spread = pytorch_spread(p, w, r.num_batches_tracked);
  const AccuracyModel am = AccuracyModel::for_data(t);
  std::vector<StatErrors> errors;
  for (const SetStats& st : stats) errors.push_back(stat_errors_of(p, sets, st));

  Tensor rm_b = Tensor::empty(DType::kFloat64, shape), rv_b = Tensor::empty(DType::kFloat64, shape);
  for (std::int64_t c = 0; c < C; ++c) {
    const Contribution ct = batch_contribution(p, sets, stats, errors, c);
    const double old_m = d.running_mean[c], old_v = d.running_var[c];
    double new_m, new_v;
    if (ct.finite && std::isfinite(old_m) && std::isfinite(old_v)) {
      new_m = round_rational(keep * to_rational(old_m) + take * ct.mean, t);
      new_v = round_rational(keep * to_rational(old_v) + take * ct.var, t);
    } else {
      new_m = round_to(t, w.keep * old_m + w.take * ct.mean_d);
      new_v = round_to(t, w.keep * old_v + w.take * ct.var_d);
    }
    r.running_mean->view().set_linear(c, new_m);
    r.running_var->view().set_linear(c, new_v);
    // The batch statistics' errors scaled by take, the update's own three roundings, and under
    // pytorch the other kernels' holdings of the momentum; undecided where an accumulator may
    // overflow or the new value lies within that of the overflow threshold.
    auto bound_of = [&](double fresh, double old, double batch, double batch_err, bool undecided) {
      const double kept = std::fabs(w.keep * old), taken = std::fabs(w.take * batch);
      const double err = std::fabs(w.take) * batch_err + 3 * am.u * (kept + taken) + spread.keep * std::fabs(old) +
                         spread.take * std::fabs(batch);
      const long double exact = static_cast<long double>(w.keep) * old + static_cast<long double>(w.take) * batch;
      const double ulp_at_max = ulp(t, info(t).max_finite);
      if (undecided || (ct.finite && std::isfinite(old) &&
                        straddles_overflow(exact, err + ulp_at_max, overflow_threshold(t))))
        return kUndecided;
      return std::isfinite(fresh) ? err + ulp(t, fresh) : 0.0;
    };
    rm_b.view().set_linear(c, bound_of(new_m, old_m, ct.mean_d, ct.mean_err, ct.mean_undecided));
    rv_b.view().set_linear(c, bound_of(new_v, old_v, ct.var_d, ct.var_err, ct.var_undecided));
  }
  r.running_mean_bound = std::move(rm_b);
  r.running_var_bound = std::move(rv_b);
}

}  // namespace normcheck::reference::detail
