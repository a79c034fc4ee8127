// The LibTorch adapter: the modules users actually call (torch::nn::BatchNorm1d/2d/3d, LayerNorm,
// InstanceNorm1d/2d/3d, GroupNorm), driven in train/eval mode with their own buffers
// (running_mean, running_var, num_batches_tracked), backward through autograd. The saved
// statistics come from the functional forms the modules dispatch to (at::native_batch_norm,
// at::native_layer_norm, at::native_group_norm). The only translation unit that includes LibTorch.
#include "impls/torch/torch_impl.h"

#include <torch/cuda.h>
#include <torch/version.h>
#include <torch/nn/functional/batchnorm.h>
#include <torch/nn/functional/instancenorm.h>  // modules/instancenorm.h uses it without including it
#include <torch/nn/functional/normalization.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/normalization.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace normcheck::impls {
namespace {

at::ScalarType scalar_type_of(DType t) {
  switch (t) {
    case DType::kFloat64: return at::kDouble;
    case DType::kFloat32: return at::kFloat;
    case DType::kFloat16: return at::kHalf;
    case DType::kBFloat16: return at::kBFloat16;
  }
  return at::kFloat;
}

c10::Device torch_device_of(Device d) { return d == Device::kCUDA ? c10::Device(c10::kCUDA) : c10::Device(c10::kCPU); }

bool nonnegative_strides(const TensorView& v) {
  return std::all_of(v.strides.begin(), v.strides.end(), [](std::int64_t s) { return s >= 0; });
}

/// The first line of a LibTorch error, without the C++ backtrace.
std::string first_line(const char* what) {
  std::string s(what);
  const std::size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

/// A torch tensor with v's values on `device`, dense in `layout` (channels-last strides for
/// rank >= 3: at::MemoryFormat::ChannelsLast / ChannelsLast3d for 4D / 5D, the same permuted
/// strides for 3D, which LibTorch 1.13 has no named memory format for).
at::Tensor to_torch(const TensorView& v, c10::Device device, Layout layout = Layout::kContiguous) {
  const at::ScalarType st = scalar_type_of(v.dtype);
  at::Tensor src;
  if (nonnegative_strides(v)) {
    src = torch::from_blob(v.data, v.shape, v.strides, at::TensorOptions().dtype(st).device(torch_device_of(v.device)));
  } else {  // LibTorch has no negative strides: gather on the CPU.
    NC_CHECK(v.device == Device::kCPU, "negative strides on a CUDA view");
    std::vector<double> values(static_cast<std::size_t>(v.numel()));
    for (std::int64_t i = 0; i < v.numel(); ++i) values[static_cast<std::size_t>(i)] = v.get_linear(i);
    src = torch::from_blob(values.data(), v.shape, at::TensorOptions().dtype(at::kDouble)).to(st);
  }
  const std::vector<std::int64_t> strides =
      layout == Layout::kChannelsLast && v.rank() >= 3 ? channels_last_strides(v.shape) : contiguous_strides(v.shape);
  // Already dense in the wanted layout, on the wanted device: LibTorch reads the caller's memory
  // (read only: modules copy what they keep), so the adapter adds no pass over x.
  if (nonnegative_strides(v) && src.device() == device && src.strides().vec() == strides) return src;
  at::Tensor out = at::empty_strided(v.shape, strides, at::TensorOptions().dtype(st).device(device));
  out.copy_(src);
  return out;
}

/// Writes src (any dtype, device, layout) into dst (any strides), converting to dst's dtype.
void write_back(const at::Tensor& src, const TensorView& dst) {
  at::Tensor s = src.detach().reshape(dst.shape);
  if (nonnegative_strides(dst)) {
    at::Tensor d = torch::from_blob(dst.data, dst.shape, dst.strides,
                                    at::TensorOptions().dtype(scalar_type_of(dst.dtype)).device(torch_device_of(dst.device)));
    d.copy_(s);
    return;
  }
  at::Tensor dense = s.to(at::kDouble).cpu().contiguous();
  const double* p = dense.data_ptr<double>();
  for (std::int64_t i = 0; i < dst.numel(); ++i) dst.set_linear(i, p[i]);
}

struct Prepared {
  at::Tensor x, weight, bias, running_mean, running_var, dy;
};

/// Copies the caller's parameters and buffers into the module (which then owns them, as in a user's
/// model), sets train/eval, runs forward (and backward), writes everything back.
template <class Holder>
Status drive(Holder module, const Problem& p, const Prepared& in, c10::Device device, Outputs& out) {
  const at::ScalarType st = scalar_type_of(p.dtype);
  module->to(device, st);
  constexpr bool kStateful = requires { module->running_mean; };
  {
    torch::NoGradGuard no_grad;
    if (p.affine) {
      module->weight.copy_(in.weight);
      // LibTorch 1.13's modules have no bias=False: a zero bias gives the same values (y + 0 == y)
      // and is what a user freezing the bias writes; its gradient is not reported.
      if (in.bias.defined()) module->bias.copy_(in.bias);
      else module->bias.zero_();
    }
    if constexpr (kStateful) {
      if (p.track_running_stats) {
        module->running_mean.copy_(in.running_mean);
        module->running_var.copy_(in.running_var);
        module->num_batches_tracked.fill_(out.num_batches_tracked);
      }
    }
  }
  if (p.affine && !in.bias.defined()) module->bias.set_requires_grad(false);
  module->train(p.mode == Mode::kTrain);

  at::Tensor x = in.x;
  const bool backward = p.direction == Direction::kBackward;
  if (backward) x.set_requires_grad(true);
  at::Tensor y = module->forward(x);
  if (backward) y.backward(in.dy);

  write_back(y, out.y);
  if constexpr (kStateful) {
    if (p.track_running_stats) {
      if (out.running_mean) write_back(module->running_mean, *out.running_mean);
      if (out.running_var) write_back(module->running_var, *out.running_var);
      out.num_batches_tracked = module->num_batches_tracked.template item<std::int64_t>();
    }
  }
  if (backward) {
    if (out.dx) {
      if (!x.grad().defined()) return Status::error("internal: LibTorch produced no gradient for x");
      write_back(x.grad(), *out.dx);
    }
    if (p.affine && out.dweight) write_back(module->weight.grad(), *out.dweight);
    if (p.affine && out.dbias && in.bias.defined()) write_back(module->bias.grad(), *out.dbias);
  }
  return Status();
}

/// The saved mean / rstd of the batch statistics, from the functional forms the modules call.
void write_saved_stats(const Problem& p, const Geometry& g, const Prepared& in, double eps, Outputs& out) {
  if (!out.mean && !out.rstd) return;
  torch::NoGradGuard no_grad;
  at::Tensor x = in.x.detach();
  at::Tensor w = p.affine ? in.weight : at::Tensor();
  at::Tensor b = in.bias;
  std::tuple<at::Tensor, at::Tensor, at::Tensor> r;
  switch (p.op) {
    case Op::kBatchNorm:
      r = at::native_batch_norm(x, w, b, {}, {}, /*training=*/true, /*momentum=*/0.0, eps);
      break;
    case Op::kInstanceNorm:  // at::instance_norm is batch_norm over (1, N*C, spatial...)
      r = at::native_batch_norm(x.contiguous().view({1, g.N * g.C, -1}), {}, {}, {}, {}, true, 0.0, eps);
      break;
    case Op::kLayerNorm:
      r = at::native_layer_norm(x, p.normalized_shape, w, b, eps);
      break;
    case Op::kGroupNorm:  // at::group_norm (what the module calls) makes x so first; the native op requires it
      r = at::native_group_norm(x.contiguous(x.suggest_memory_format()), w, b, g.N, g.C, g.S, g.G, eps);
      break;
    default:
      return;
  }
  if (out.mean) write_back(std::get<1>(r).reshape({-1}), *out.mean);
  if (out.rstd) write_back(std::get<2>(r).reshape({-1}), *out.rstd);
}

/// Runs p on `compute` (the device the module and its tensors live on); inputs on another device
/// are copied there and the results copied back into the caller's views.
Status run_torch(const Problem& p, const Inputs& in, Outputs& out, Device compute) {
  Expected<Geometry> g = geometry(p);
  if (!g) return g.status();
  const c10::Device device = torch_device_of(compute);
  const double eps = effective_eps(p);
  const int rank = static_cast<int>(p.shape.size());

  Prepared t;
  {
    torch::NoGradGuard no_grad;
    t.x = to_torch(in.x, device, p.layout);
    if (p.affine && in.weight) t.weight = to_torch(*in.weight, device);
    if (p.affine && p.bias && in.bias) t.bias = to_torch(*in.bias, device);
    if (p.track_running_stats && in.running_mean) t.running_mean = to_torch(*in.running_mean, device);
    if (p.track_running_stats && in.running_var) t.running_var = to_torch(*in.running_var, device);
    if (p.direction == Direction::kBackward) {
      if (!in.grad_output) return Status::error("Expected grad_output for a backward problem, but got none");
      t.dy = to_torch(*in.grad_output, device, p.layout);
    }
  }
  if (p.affine && !t.weight.defined()) return Status::error("Expected a weight (affine=1), but got none");

  Status s;
  switch (p.op) {
    case Op::kBatchNorm: {
      auto o = torch::nn::BatchNormOptions(g->C).eps(eps).affine(p.affine).track_running_stats(p.track_running_stats);
      o.momentum(p.momentum ? c10::optional<double>(*p.momentum) : c10::nullopt);
      if (rank <= 3) s = drive(torch::nn::BatchNorm1d(o), p, t, device, out);
      else if (rank == 4) s = drive(torch::nn::BatchNorm2d(o), p, t, device, out);
      else s = drive(torch::nn::BatchNorm3d(o), p, t, device, out);
      break;
    }
    case Op::kInstanceNorm: {
      // momentum=None has no InstanceNormOptions spelling; supports() refuses it where it matters.
      auto o = torch::nn::InstanceNormOptions(g->C).eps(eps).momentum(p.momentum.value_or(0.1)).affine(p.affine)
                   .track_running_stats(p.track_running_stats);
      if (rank == 3) s = drive(torch::nn::InstanceNorm1d(o), p, t, device, out);
      else if (rank == 4) s = drive(torch::nn::InstanceNorm2d(o), p, t, device, out);
      else s = drive(torch::nn::InstanceNorm3d(o), p, t, device, out);
      break;
    }
    case Op::kLayerNorm:
      s = drive(torch::nn::LayerNorm(torch::nn::LayerNormOptions(p.normalized_shape).eps(eps).elementwise_affine(p.affine)),
                p, t, device, out);
      break;
    case Op::kGroupNorm:
      s = drive(torch::nn::GroupNorm(torch::nn::GroupNormOptions(g->G, g->C).eps(eps).affine(p.affine)), p, t, device,
                out);
      break;
    default:
      return Status::error("internal: op " + std::string(name(p.op)) + " reached the torch adapter");
  }
  if (!s) return s;
  write_saved_stats(p, *g, t, eps, out);
  return Status();
}

/// Which (op, dtype) pairs LibTorch runs, forward and backward, train and eval, measured once per
/// device on a tiny problem: "" when it runs, else the first line of LibTorch's refusal.
const std::string& probe(Op op, DType dtype, Device device) {
  static std::mutex mu;
  static std::map<std::tuple<Op, DType, Device>, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_tuple(op, dtype, device);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::string verdict;
  try {
    const c10::Device dev = torch_device_of(device);
    const at::TensorOptions opt = at::TensorOptions().dtype(scalar_type_of(dtype)).device(dev);
    for (bool train : {true, false}) {
      at::Tensor x = torch::randn({2, 4, 3, 3}, opt).set_requires_grad(true);
      at::Tensor y;
      switch (op) {
        case Op::kBatchNorm: {
          torch::nn::BatchNorm2d m(torch::nn::BatchNormOptions(4));
          m->to(dev, scalar_type_of(dtype));
          m->train(train);
          y = m->forward(x);
          break;
        }
        case Op::kInstanceNorm: {
          torch::nn::InstanceNorm2d m(torch::nn::InstanceNormOptions(4).affine(true).track_running_stats(true));
          m->to(dev, scalar_type_of(dtype));
          m->train(train);
          y = m->forward(x);
          break;
        }
        case Op::kLayerNorm: {
          torch::nn::LayerNorm m(torch::nn::LayerNormOptions({3, 3}));
          m->to(dev, scalar_type_of(dtype));
          y = m->forward(x);
          break;
        }
        case Op::kGroupNorm: {
          torch::nn::GroupNorm m(torch::nn::GroupNormOptions(2, 4));
          m->to(dev, scalar_type_of(dtype));
          y = m->forward(x);
          break;
        }
        default:
          verdict = "not a LibTorch module";
          break;
      }
      if (!verdict.empty()) break;
      y.backward(torch::ones_like(y));
      if (op == Op::kBatchNorm || op == Op::kInstanceNorm) {  // the saved-stats path too
        torch::NoGradGuard no_grad;
        at::native_batch_norm(x.detach(), {}, {}, {}, {}, true, 0.0, 1e-5);
      } else if (op == Op::kLayerNorm) {
        torch::NoGradGuard no_grad;
        at::native_layer_norm(x.detach(), {3, 3}, {}, {}, 1e-5);
      } else {
        torch::NoGradGuard no_grad;
        at::native_group_norm(x.detach(), {}, {}, 2, 4, 9, 2, 1e-5);
      }
    }
  } catch (const std::exception& e) {
    verdict = first_line(e.what());
    if (verdict.empty()) verdict = "LibTorch refused";
  }
  return cache.emplace(key, verdict).first->second;
}

/// "torch": LibTorch on the device of the caller's x (the CPU for host views).
/// "torch-cuda" (registered when LibTorch has CUDA and a GPU is usable): LibTorch on the GPU, host
/// or device views alike (host views are copied to the GPU and the results back).
class TorchImplementation final : public Implementation {
 public:
  explicit TorchImplementation(bool cuda) : cuda_(cuda) {
    const Device probe_device = cuda ? Device::kCUDA : Device::kCPU;
    caps_.ops = {Op::kBatchNorm, Op::kLayerNorm, Op::kInstanceNorm, Op::kGroupNorm};
    caps_.dtypes = {DType::kFloat64, DType::kFloat32};
    // float16 / bfloat16 only where LibTorch runs at least one module in them on the CPU
    // (supports() then refuses the (op, dtype) pairs it does not run, with LibTorch's message).
    for (DType t : {DType::kFloat16, DType::kBFloat16}) {
      for (Op op : caps_.ops) {
        if (probe(op, t, probe_device).empty()) {
          caps_.dtypes.push_back(t);
          break;
        }
      }
    }
    caps_.layouts = {Layout::kContiguous, Layout::kChannelsLast};
    caps_.modes = {Mode::kTrain, Mode::kEval};
    caps_.directions = {Direction::kForward, Direction::kBackward};
    caps_.profiles = {Profile::kPyTorch};
    caps_.devices = {Device::kCPU};
    if (torch::cuda::is_available()) caps_.devices.push_back(Device::kCUDA);
    caps_.saves_stats = true;
    if (cuda) {
      description_ = "LibTorch " TORCH_VERSION
                     " modules on CUDA (torch::nn::BatchNorm/LayerNorm/InstanceNorm/GroupNorm), autograd backward;"
                     " host views copied to the GPU and back; bias=0 stands for bias=False";
    }
  }

  std::string_view name() const override { return cuda_ ? "torch-cuda" : "torch"; }
  std::string_view description() const override { return description_; }
  const Capabilities& capabilities() const override { return caps_; }

  std::optional<std::string> supports(const Problem& p) const override {
    if (p.op == Op::kRmsNorm)
      return "LibTorch " TORCH_VERSION " has no RMSNorm module (torch::nn::RMSNorm arrived in PyTorch 2.4)";
    if (p.op == Op::kLayerNorm2d) return "LibTorch has no channels-first LayerNorm module";
    if (cuda_ && !torch::cuda::is_available()) return "LibTorch " TORCH_VERSION " has no usable CUDA device";
    if (auto r = caps_.refuses(p, Device::kCPU)) return r;
    if (!p.affine && p.bias) return "bias without weight (affine=0, bias=1): LibTorch's modules have no such option";
    // Found by the property suite: at::native::batch_norm_cpu dies of SIGFPE (an integer division
    // by the zero element count) on an empty batch; the adapter must not take the process with it.
    if (p.op == Op::kBatchNorm && numel_of(p.shape) == 0)
      return "LibTorch " TORCH_VERSION " CPU batch_norm crashes (SIGFPE) on an empty batch";
    if (p.op == Op::kInstanceNorm && !p.momentum && p.track_running_stats && p.mode == Mode::kTrain)
      return "momentum=None: LibTorch's InstanceNormOptions::momentum is a double (PyTorch's InstanceNorm has no "
             "cumulative moving average)";
    if (p.dtype == DType::kFloat16 || p.dtype == DType::kBFloat16) {
      const std::string& why = probe(p.op, p.dtype, cuda_ ? Device::kCUDA : Device::kCPU);
      if (!why.empty())
        return std::string("LibTorch ") + (cuda_ ? "CUDA" : "CPU") + " refuses " + std::string(normcheck::name(p.dtype)) +
               ": " + why;
    }
    return std::nullopt;
  }

  Status run(const Problem& p, const Inputs& in, Outputs& out) override {
    if (auto why = supports(p)) return Status::error("not supported: " + *why);
    try {
      return run_torch(p, in, out, cuda_ ? Device::kCUDA : in.x.device);
    } catch (const c10::Error& e) {  // LibTorch's own check of the input (TORCH_CHECK): its refusal
      return Status::refusal(first_line(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      return Status::error(first_line(e.what()));
    }
  }

 private:
  bool cuda_ = false;
  Capabilities caps_;
  std::string description_ = "LibTorch " TORCH_VERSION
                             " modules (torch::nn::BatchNorm/LayerNorm/InstanceNorm/GroupNorm), autograd backward;"
                             " bias=0 stands for bias=False, which 1.13's modules lack";
};

}  // namespace

void add_torch_implementations(std::vector<std::unique_ptr<Implementation>>& out) {
  out.push_back(std::make_unique<TorchImplementation>(false));
}

void add_torch_cuda_implementations(std::vector<std::unique_ptr<Implementation>>& out) {
  if (torch::cuda::is_available()) out.push_back(std::make_unique<TorchImplementation>(true));
}

}  // namespace normcheck::impls
