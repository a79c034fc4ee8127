#include "properties/special_cases.h"

#include <algorithm>
#include <functional>

namespace normcheck::properties {
namespace {

template <class T>
T first_of(const std::vector<T>& preferred, const std::vector<T>& a, const std::vector<T>& b, T fallback) {
  for (const T& x : preferred)
    if (contains(a, x) && contains(b, x)) return x;
  return fallback;
}

bool has_channel_dim(Op op) { return op != Op::kLayerNorm && op != Op::kRmsNorm; }

/// x of op whose normalization sets hold n elements each (the batch dim kept small).
std::vector<std::int64_t> shape_with_set_size(Op op, std::int64_t n) {
  switch (op) {
    case Op::kBatchNorm: return {n, 2};         // a channel's set: N values
    case Op::kLayerNorm2d: return {1, n, 2};    // a position's set: the C channels
    case Op::kLayerNorm:
    case Op::kRmsNorm: return {2, n};           // a row
    default: return {2, 2, n};                  // instance_norm, group_norm (G = C): one channel
  }
}

/// The base problem of op, moved inside domain d and caps: the first option of each field both
/// allow, the dtype and profile chosen by k (rotating over the capabilities').
Problem base_problem(Op op, const Domain& d, const impls::Capabilities& caps, std::size_t k) {
  std::vector<DType> dtypes;
  for (const DType t : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16})
    if (contains(caps.dtypes, t)) dtypes.push_back(t);
  const Profile profile = caps.profiles.empty() ? Profile::kPyTorch : caps.profiles[k % caps.profiles.size()];
  Problem p = default_problem(op, shape_with_set_size(op, 5), profile);
  if (!dtypes.empty()) p.dtype = dtypes[k % dtypes.size()];
  if (op == Op::kGroupNorm) p.num_groups = p.shape[1];
  if (!has_channel_dim(op)) p.normalized_shape = {p.shape.back()};
  p.mode = first_of({Mode::kTrain, Mode::kEval}, d.modes, caps.modes, Mode::kTrain);
  p.direction = first_of({Direction::kForward, Direction::kBackward}, d.directions, caps.directions, Direction::kForward);
  p.layout = first_of({Layout::kContiguous, Layout::kStrided, Layout::kPermuted, Layout::kChannelsLast}, d.layouts,
                      caps.layouts, Layout::kContiguous);
  if (d.affine != Domain::Flag::kAny) p.affine = p.bias = d.affine == Domain::Flag::kOn;
  if (d.tracking != Domain::Flag::kAny && (op == Op::kBatchNorm || op == Op::kInstanceNorm))
    p.track_running_stats = d.tracking == Domain::Flag::kOn;
  if (d.running_statistics) p.mode = Mode::kEval, p.track_running_stats = true;
  if (d.batch_statistics && uses_running_stats(p)) p.mode = Mode::kTrain;
  const ValueKind kind = d.values.empty() ? ValueKind::kNormal : d.values.front();
  p.values = Values{kind, kind == ValueKind::kConstant ? 7.0 : kind == ValueKind::kExactPairs ? 8.0 : 0.0, 1.0};
  p.seed = 17 + k;  // fixed: the special cases do not depend on the run's seed
  return p;
}

struct Special {
  const char* name;
  std::function<void(Problem&)> apply;
};

std::vector<Special> specials() {
  auto sized = [](std::int64_t n) {
    return [n](Problem& p) {
      p.shape = shape_with_set_size(p.op, n);
      if (p.op == Op::kGroupNorm) p.num_groups = p.shape[1];
      if (p.op == Op::kLayerNorm || p.op == Op::kRmsNorm) p.normalized_shape = {n};
    };
  };
  return {
      {"momentum_none",
       [](Problem& p) { p.profile = Profile::kPyTorch, p.mode = Mode::kTrain, p.track_running_stats = true, p.momentum.reset(); }},
      {"n_times_spatial_1",  // batch_norm in training: one value per channel, an error under every profile
       [](Problem& p) {
         p.shape = has_channel_dim(p.op) ? std::vector<std::int64_t>{1, 2} : std::vector<std::int64_t>{1, 3};
         if (p.op == Op::kInstanceNorm || p.op == Op::kLayerNorm2d || p.op == Op::kGroupNorm) p.shape.push_back(1);
         if (p.op == Op::kGroupNorm) p.num_groups = 1;
         if (!has_channel_dim(p.op)) p.normalized_shape = {3};
         p.mode = Mode::kTrain;
       }},
      {"eval_running_stats", [](Problem& p) { p.mode = Mode::kEval, p.track_running_stats = true; }},
      {"backward_affine_bias",
       [](Problem& p) { p.direction = Direction::kBackward, p.mode = Mode::kTrain, p.affine = p.bias = true; }},
      {"set_size_9", sized(9)},
      {"set_size_17", sized(17)},
      {"set_size_33", sized(33)},
  };
}

}  // namespace

std::vector<FixedCase> special_cases(Op op, const Domain& domain, const impls::Capabilities& caps) {
  std::vector<FixedCase> out;
  if (!contains(domain.ops, op)) return out;
  std::size_t k = 0;
  for (const Special& s : specials()) {
    Problem p = base_problem(op, domain, caps, k++);
    s.apply(p);
    if (p.shape[0] < domain.min_batch) p.shape[0] = domain.min_batch;
    // A configuration the op does not have (running statistics of layer_norm), or the property
    // excludes, is not a case of this row.
    const bool meaningful = (op == Op::kBatchNorm || op == Op::kInstanceNorm) ||
                            (std::string(s.name) != "momentum_none" && std::string(s.name) != "eval_running_stats");
    if (!meaningful || !validate(p).ok() || outside_domain(p, domain)) continue;
    if (!contains(caps.profiles, p.profile) && !caps.profiles.empty()) continue;  // momentum=None needs pytorch
    out.push_back({s.name, p, nullptr});
  }
  return out;
}

}  // namespace normcheck::properties
