// The running-statistics update of batch_norm and instance_norm in training mode.
#include <cmath>

#include "impls/common.h"
#include "impls/cpu/kernels.h"
#include "impls/registry.h"

namespace normcheck::impls::cpu {

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
  for (std::int64_t c = 0; c < g.C; ++c) {
    // Scalar math: batch_mean = mean_n mean[n][c]; batch_var = mean_n var[n][c] * bessel
    double bm = 0, bv = 0;
    for (std::int64_t n = 0; n < instances; ++n) {
      const std::size_t k = static_cast<std::size_t>(p.op == Op::kBatchNorm ? c : n * g.C + c);
      bm += mean[k];
      bv += var[k] * bessel;
    }
    bm /= static_cast<double>(instances);
    bv /= static_cast<double>(instances);
    const double old_m = out.running_mean->get_linear(c), old_v = out.running_var->get_linear(c);
    out.running_mean->set_linear(c, w.keep * old_m + w.take * bm);
    out.running_var->set_linear(c, w.keep * old_v + w.take * bv);
  }
}

}  // namespace normcheck::impls::cpu
