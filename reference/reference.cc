// evaluate(): checks the inputs against the problem, copies them into dense doubles, and runs
// the statistics, forward, running-statistics and backward parts.
#include "reference/reference.h"


#include "reference/internal.h"
#include "reference/refusals.h"

namespace normcheck::reference {
namespace {

using detail::Data;
using detail::Sets;

Status check_tensor(const char* what, const std::optional<TensorView>& v, bool required, DType dtype,
                    std::span<const std::int64_t> shape, const char* why) {
  if (!required) {
    if (v) return Status::error(std::string("Expected no ") + what + " (" + why + "), but got one");
    return {};
  }
  if (!v) return Status::error(std::string("Expected a ") + what + " of shape " + bracketed(shape) + " (" + why + "), but got none");
  if (v->device != Device::kCPU) return Status::error(std::string("Expected the ") + what + " on the CPU, but got a CUDA tensor");
  if (v->dtype != dtype)
    return Status::error(std::string("Expected ") + what + " of dtype " + std::string(name(dtype)) + ", but got " +
                         std::string(name(v->dtype)));
  if (!std::equal(v->shape.begin(), v->shape.end(), shape.begin(), shape.end()))
    return Status::error(std::string("Expected ") + what + " of shape " + bracketed(shape) + ", but got " +
                         bracketed(v->shape));
  if (v->numel() > 0 && v->data == nullptr) return Status::error(std::string("Expected ") + what + " data, but got a null pointer");
  return {};
}

/// Copies a view into dense logical order as doubles; contiguous views without a per-element
/// index computation.
std::vector<double> dense(const TensorView& v) {
  const std::int64_t n = v.numel();
  std::vector<double> out(static_cast<std::size_t>(n));
  if (v.is_contiguous()) {
    const auto* p = static_cast<const char*>(v.data);
    const std::size_t es = size_of(v.dtype);
    switch (v.dtype) {
      case DType::kFloat64:
        for (std::int64_t i = 0; i < n; ++i) out[i] = reinterpret_cast<const double*>(p)[i];
        return out;
      case DType::kFloat32:
        for (std::int64_t i = 0; i < n; ++i) out[i] = reinterpret_cast<const float*>(p)[i];
        return out;
      default:
        for (std::int64_t i = 0; i < n; ++i) out[i] = load(v.dtype, p + i * es);
        return out;
    }
  }
  for (std::int64_t i = 0; i < n; ++i) out[i] = v.get_linear(i);
  return out;
}

/// Checks everything, builds the dense data and the set structure.
Status prepare(const Problem& p, const Inputs& in, Data& d, Sets& sets) {
  const Expected<Geometry> geo = geometry(p);
  if (!geo) return geo.status();
  const Geometry& g = *geo;
  NC_RETURN_IF_ERROR(check_tensor("x", in.x, true, p.dtype, p.shape, "the input"));
  const std::vector<std::int64_t> ashape = affine_shape(p);
  NC_RETURN_IF_ERROR(check_tensor("weight", in.weight, p.affine, p.dtype, ashape, p.affine ? "affine=1" : "affine=0"));
  NC_RETURN_IF_ERROR(check_tensor("bias", in.bias, p.bias, p.dtype, ashape, p.bias ? "bias=1" : "bias=0"));
  const bool tracked = tracks_running_stats(p);
  const std::vector<std::int64_t> cshape{g.C};
  const char* why = tracked ? "track_running_stats=1" : "no running statistics";
  NC_RETURN_IF_ERROR(check_tensor("running_mean", in.running_mean, tracked, p.dtype, cshape, why));
  NC_RETURN_IF_ERROR(check_tensor("running_var", in.running_var, tracked, p.dtype, cshape, why));
  if (in.num_batches_tracked < 0)
    return Status::error("Expected num_batches_tracked >= 0, but got " + std::to_string(in.num_batches_tracked));
  const bool backward = p.direction == Direction::kBackward;
  NC_RETURN_IF_ERROR(check_tensor("grad_output", in.grad_output, backward, p.dtype, p.shape,
                                  backward ? "direction=backward" : "direction=forward"));

  // PyTorch's cumulative average (momentum=None) is BatchNorm's: InstanceNorm's momentum is a number.
  if (p.op == Op::kInstanceNorm && tracked && p.mode == Mode::kTrain && !p.momentum && p.profile == Profile::kPyTorch)
    return refuse(kInstanceNormMomentumNone, p);
  sets = Sets{p.op, g, uses_running_stats(p)};
  // The profile's refusals: PyTorch computes no batch statistics from a single value.
  if (p.profile == Profile::kPyTorch && !sets.use_running_stats && g.set_size == 1 && g.num_sets > 0) {
    if (p.op == Op::kBatchNorm) return refuse(kOneValuePerChannel, p);
    if (p.op == Op::kInstanceNorm) return refuse(kOneSpatialElement, p);
  }

  d.x = dense(in.x);
  if (backward) d.dy = dense(*in.grad_output);
  d.gamma = p.affine ? dense(*in.weight) : std::vector<double>(static_cast<std::size_t>(g.C), 1.0);
  d.beta = p.bias ? dense(*in.bias) : std::vector<double>(static_cast<std::size_t>(g.C), 0.0);
  if (tracked) {
    d.running_mean = dense(*in.running_mean);
    d.running_var = dense(*in.running_var);
  }
  d.num_batches_tracked = in.num_batches_tracked;
  return {};
}

}  // namespace

std::vector<NamedOutput> present_outputs(const Result& r) {
  auto ptr = [](const std::optional<Tensor>& t) { return t ? &*t : nullptr; };
  const NamedOutput all[] = {
      {"y", &r.y, &r.y_bound},
      {"mean", ptr(r.mean), ptr(r.mean_bound)},
      {"rstd", ptr(r.rstd), ptr(r.rstd_bound)},
      {"running_mean", ptr(r.running_mean), ptr(r.running_mean_bound)},
      {"running_var", ptr(r.running_var), ptr(r.running_var_bound)},
      {"dx", ptr(r.dx), ptr(r.dx_bound)},
      {"dweight", ptr(r.dweight), ptr(r.dweight_bound)},
      {"dbias", ptr(r.dbias), ptr(r.dbias_bound)},
  };
  std::vector<NamedOutput> present;
  for (const NamedOutput& o : all) {
    if (o.value != nullptr) present.push_back(o);
  }
  return present;
}

void Certification::merge(const Certification& o) {
  values += o.values;
  for (int i = 0; i < kLevels; ++i) at_level[i] += o.at_level[i];
  exact += o.exact;
  uncertified += o.uncertified;
}

Expected<Result> evaluate(const Problem& p, const Inputs& in) {
  Data d;
  Sets sets{};
  NC_RETURN_IF_ERROR(prepare(p, in, d, sets));
  Result r;
  const std::vector<detail::SetStats> stats = detail::compute_set_stats(p, sets, d);
  detail::forward_outputs(p, sets, d, stats, r);
  const bool tracked = tracks_running_stats(p);
  if (tracked) detail::running_stats_update(p, sets, d, stats, r);
  if (p.direction == Direction::kBackward) detail::backward_outputs(p, sets, d, stats, r);
  return r;
}

Expected<Result> evaluate_plain_double(const Problem& p, const Inputs& in) {
  Data d;
  Sets sets{};
  NC_RETURN_IF_ERROR(prepare(p, in, d, sets));
  Result r;
  detail::plain_forward(p, sets, d, r);
  return r;
}

}  // namespace normcheck::reference
