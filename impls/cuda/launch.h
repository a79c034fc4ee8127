#pragma once
/// The cuda implementation's internal API: the launchers, on device pointers, so that a benchmark
/// (bench/cuda_bench.cc) can time the kernels on device-resident data and the Implementation
/// (cuda_impl.cc) only stages host views around them.
///
/// Every op is viewed as x[n][c][s] (normcheck::Geometry) stored DENSE on the device in one of two
/// orders: NCS (s innermost: the contiguous layout) or NSC (c innermost: channels-last; layer_norm
/// and rms_norm, whose S is 1, always use NSC, i.e. rows of C). x, y, dy and dx share the order.
/// Scalars are accumulated in Acc = float for float32/float16/bfloat16 data, double for float64.
///
/// Every launch is checked (cudaGetLastError) and a failure comes back as a Status naming the
/// kernel and CUDA's error string. Launches go to the given stream; nothing here synchronizes
/// except Workspace::reserve (cudaFree/cudaMalloc).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "normcheck/problem.h"
#include "normcheck/status.h"

namespace normcheck::impls::cuda {

enum class Order : std::uint8_t { kNCS, kNSC };

/// One problem reduced to what the kernels need.
struct Desc {
  Op op = Op::kBatchNorm;
  DType dtype = DType::kFloat32;
  Order order = Order::kNCS;
  Geometry g;
  double eps = 1e-5;
  /// batch_norm / instance_norm in eval with track_running_stats: normalize with the running
  /// statistics (per channel) instead of batch statistics.
  bool use_running = false;
  /// Training with track_running_stats: new = keep * old + take * batch (update_weights), with the batch variance
  /// multiplied by m / (m - 1) when `unbiased` (PyTorch) and, for instance_norm, the batch
  /// statistics averaged over n.
  bool update_running = false;
  double keep = 0.9, take = 0.1;
  bool unbiased = true;
};

/// The order the kernels should use for a problem whose x is dense channels-last (or not):
/// where S == 1 or C == 1 both orders are the same memory and the faster one is chosen.
Order choose_order(Op op, const Geometry& g, bool channels_last);

/// The number of entries of the mean / rstd arrays forward writes and backward reads:
/// g.num_sets with batch statistics, g.C with running statistics (use_running).
std::int64_t stat_count(const Desc& d);

/// Grow-only device scratch memory (partial statistics, per-set sums). Not thread-safe.
class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();
  /// At least `bytes` of device memory (256-byte aligned), reallocating when too small.
  Status reserve(std::size_t bytes);
  void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Device pointers of one forward call. T = the data dtype, Acc as above.
struct ForwardArgs {
  const void* x = nullptr;  ///< T, numel, dense in d.order
  void* y = nullptr;        ///< T, numel, dense in d.order
  const void* gamma = nullptr;  ///< T[C] (layer_norm/rms_norm: T[prod normalized_shape] = T[C]); null: 1
  const void* beta = nullptr;   ///< T[C]; null: 0
  void* running_mean = nullptr;  ///< T[C]: read when use_running, updated in place when update_running
  void* running_var = nullptr;   ///< T[C]
  void* mean = nullptr;  ///< Acc[stat_count]: out, the statistics y was normalized with (rms_norm: 0)
  void* rstd = nullptr;  ///< Acc[stat_count]: out
};

/// Device pointers of one backward call (after forward, with its mean / rstd).
struct BackwardArgs {
  const void* x = nullptr;   ///< T, dense in d.order
  const void* dy = nullptr;  ///< T, dense in d.order
  const void* gamma = nullptr;  ///< T[C]; null: 1
  const void* mean = nullptr;   ///< Acc[stat_count], as forward wrote it
  const void* rstd = nullptr;   ///< Acc[stat_count]
  void* dx = nullptr;       ///< T, dense in d.order
  void* dgamma = nullptr;   ///< T[C]; null: not computed
  void* dbeta = nullptr;    ///< T[C]; null: not computed
};

/// y (and mean/rstd, and the running statistics). Precondition: g.N * g.C * g.S > 0.
Status forward(const Desc& d, const ForwardArgs& a, Workspace& ws, cudaStream_t stream);
/// dx, dgamma, dbeta. Precondition: as forward.
Status backward(const Desc& d, const BackwardArgs& a, Workspace& ws, cudaStream_t stream);

/// n values of dtype t at dst, uniform in [lo, hi), from a counter-based hash of (seed, i) (the
/// same values on every device): device-resident inputs without a host round trip (benchmarks).
Status fill_uniform(void* dst, DType t, std::int64_t n, double lo, double hi, std::uint64_t seed,
                    cudaStream_t stream);

}  // namespace normcheck::impls::cuda
