// The running-statistics update of batch_norm and instance_norm in training mode.
#include <cmath>
#include <span>
#include <vector>

#include "impls/common.h"
#include "impls/cpu/kernels.h"
#include "impls/registry.h"

namespace normcheck::impls::cpu {
namespace {

/// Sum of v with halves added recursively: each term passes through ceil(log2 n) additions.
double pairwise_sum(std::span<const double> v) {
  if (v.size() <= 2) return v.empty() ? 0.0 : v.size() == 1 ? v[0] : v[0] + v[1];
  const std::size_t half = v.size() / 2;
  return pairwise_sum(v.first(half)) + pairwise_sum(v.subspan(half));
}

}  // namespace

void update_running_stats(const Problem& p, const Geometry& g, const std::vector<double>& mean,
                          const std::vector<double>& var, Outputs& out) {
  const bool pytorch = p.profile == Profile::kPyTorch;
  // PyTorch's BatchNorm counts the step before it looks at the batch; its InstanceNorm never does.
  if (p.mode == Mode::kTrain && pytorch && p.op == Op::kBatchNorm) out.num_batches_tracked += 1;
  if (p.mode != Mode::kTrain || g.N * g.S == 0 || !out.running_mean || !out.running_var) return;
  // new = keep * old + take * batch (impls/common.h: each weight from the given momentum)
  const UpdateWeights w = update_weights(p, out.num_batches_tracked);
  const std::int64_t instances = p.op == Op::kBatchNorm ? 1 : g.N;
  const double m = static_cast<double>(g.set_size);
  // pytorch keeps the unbiased estimate var * m / (m - 1) (m >= 2: run() refuses m == 1).
  const double bessel = pytorch ? m / (m - 1) : 1.0;
  std::vector<double> means(static_cast<std::size_t>(instances)), vars(means.size());
  for (std::int64_t c = 0; c < g.C; ++c) {
    // Scalar math: batch_mean = mean_n mean[n][c]; batch_var = mean_n var[n][c] * bessel
    // Pairwise over n: instance_norm averages N instances, and a running sum of N = 4096 terms
    // errs by up to 4095 u (beyond the tolerance model's gamma_N, docs/tolerances.md).
    for (std::int64_t n = 0; n < instances; ++n) {
      const std::size_t k = static_cast<std::size_t>(p.op == Op::kBatchNorm ? c : n * g.C + c);
      means[static_cast<std::size_t>(n)] = mean[k];
      vars[static_cast<std::size_t>(n)] = var[k] * bessel;
    }
    const double bm = pairwise_sum(means) / static_cast<double>(instances);
    const double bv = pairwise_sum(vars) / static_cast<double>(instances);
    const double old_m = out.running_mean->get_linear(c), old_v = out.running_var->get_linear(c);
    out.running_mean->set_linear(c, w.keep * old_m + w.take * bm);
    out.running_var->set_linear(c, w.keep * old_v + w.take * bv);
  }
}

}  // namespace normcheck::impls::cpu
