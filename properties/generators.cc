#include "properties/generators.h"

#include <algorithm>
#include <cmath>

namespace normcheck {
void showValue(const Problem& p, std::ostream& os) { os << to_string(p); }
}  // namespace normcheck

namespace normcheck::properties {
namespace {

template <class T>
std::vector<T> both(const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<T> out;
  for (const T& x : a)
    if (contains(b, x)) out.push_back(x);
  return out;
}

/// An integer in [lo, hi), uniform at every RapidCheck size (gen::inRange alone narrows its range
/// with the size, so at the small sizes of a 12-case run the last options would never be drawn),
/// shrinking toward lo.
template <class T>
T uniform(T lo, T hi) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

/// The first element is where shrinking goes.
template <class T>
T pick(const std::vector<T>& options) {
  return options[uniform<std::size_t>(0, options.size())];
}

bool has_channel_dim(Op op) { return op != Op::kLayerNorm && op != Op::kRmsNorm; }

/// Ranks each op accepts, the simplest first (within what problem.h validates).
std::vector<int> ranks_of(Op op) {
  switch (op) {
    case Op::kBatchNorm: return {2, 3, 4, 5};
    case Op::kInstanceNorm: return {3, 4, 5};
    case Op::kGroupNorm: return {3, 2, 4, 5};
    case Op::kLayerNorm:
    case Op::kRmsNorm: return {2, 1, 3, 4};
    case Op::kLayerNorm2d: return {4, 3, 5};
  }
  return {2};
}

/// A size: mostly small (1..9), sometimes any interesting size (primes, SIMD and warp widths +-1).
std::int64_t gen_size() {
  const auto& sizes = interesting_sizes();
  const bool small = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
  const std::size_t limit = small ? 7 : sizes.size();  // the first 7 are 1, 2, 3, 4, 5, 7, 8
  return sizes[uniform<std::size_t>(0, limit)];
}

/// Halves the largest dim until the problem fits the tier's element budget.
void fit_budget(std::vector<std::int64_t>& shape, std::int64_t budget) {
  auto numel = [&] {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= std::max<std::int64_t>(d, 1);
    return n;
  };
  while (numel() > budget) {
    auto it = std::max_element(shape.begin(), shape.end());
    *it = (*it + 1) / 2;
  }
}

Values gen_values(const Domain& d, DType t, std::int64_t set_size) {
  Values v;
  v.kind = pick(d.values);
  switch (v.kind) {
    case ValueKind::kNormal:
    case ValueKind::kUniform: {
      // mean/std from 1 to 1e7 (float16: to 1e3, beyond which its 11 bits hold no spread).
      std::vector<double> offsets{0, 1e2, 1e4, -1e6, 1e7, 3.5};
      if (t == DType::kFloat16) offsets = {0, 1e2, -1e3, 3.5};
      v.offset = pick(offsets);
      v.spread = pick(std::vector<double>{1, 0.01, 100});
      break;
    }
    case ValueKind::kConstant:
      v.offset = pick(std::vector<double>{1234.5, 0, -3, 0.001, 7});
      break;
    case ValueKind::kExactPairs:
      v.offset = pick(std::vector<double>{8, 1, 1024, 0.0625});
      break;
    default:
      break;
  }
  (void)set_size;
  return v;
}

}  // namespace

const std::vector<std::int64_t>& interesting_sizes() {
  static const std::vector<std::int64_t> kSizes{1,  2,  3,   4,   5,   7,   8,   9,   15,  16,   17,   31,
                                                32, 33, 63,  64,  65,  127, 128, 129, 255, 256,  257,  1023,
                                                1024, 1025, 4095, 4096, 4097, 65537};
  return kSizes;
}

std::vector<std::int64_t> divisors(std::int64_t c) {
  std::vector<std::int64_t> out;
  for (std::int64_t g = 1; g <= c; ++g)
    if (c % g == 0) out.push_back(g);
  return out;
}

std::optional<std::string> empty_intersection(Op op, const Domain& d, const impls::Capabilities& caps) {
  if (!contains(caps.ops, op)) return "op " + std::string(name(op)) + " not supported";
  if (!contains(d.ops, op)) return "the property does not apply to " + std::string(name(op));
  if (caps.dtypes.empty()) return "no dtype supported";
  if (both(d.modes, caps.modes).empty()) return "no mode in common with the property's";
  if (both(d.directions, caps.directions).empty()) return "direction backward not supported";
  if (both(d.layouts, caps.layouts).empty()) return "no layout in common with the property's";
  if (caps.profiles.empty()) return "no profile supported";
  if (d.running_statistics && op != Op::kBatchNorm && op != Op::kInstanceNorm)
    return "the op keeps no running statistics";
  if (d.running_statistics && !contains(caps.modes, Mode::kEval)) return "mode eval not supported";
  if (d.tracking == Domain::Flag::kOn && op != Op::kBatchNorm && op != Op::kInstanceNorm)
    return "the op keeps no running statistics";
  if (d.tracking == Domain::Flag::kOn && !contains(caps.modes, Mode::kTrain) && !d.running_statistics)
    return "mode train not supported";
  return std::nullopt;
}

rc::Gen<Problem> gen_problem(Op op, const Domain& d, const impls::Capabilities& caps, Tier tier) {
  return rc::gen::exec([op, d, caps, tier] {
    const bool channels = has_channel_dim(op);
    std::vector<int> ranks = ranks_of(op);
    if (d.min_batch > 1 && !channels) ranks.erase(std::remove(ranks.begin(), ranks.end(), 1), ranks.end());
    const int rank = pick(ranks);
    std::vector<std::int64_t> shape;
    for (int i = 0; i < rank; ++i) shape.push_back(gen_size());
    // N = 0 (an empty batch) now and then, where the op has a batch dim to empty.
    // A zero-size dim now and then: the batch, or any dim but the channel (C > 0 is required).
    if (rank >= 2 && d.min_batch == 0 && *rc::gen::weightedElement<bool>({{30, false}, {1, true}})) {
      const int dim = uniform(0, rank);
      if (!(channels && dim == 1)) shape[static_cast<std::size_t>(dim)] = 0;
    }
    if (shape[0] < d.min_batch) shape[0] = d.min_batch;
    // Now and then one large problem (beyond 2^16 elements: index arithmetic that wraps, long
    // reductions), whatever the tier.
    const bool large = *rc::gen::weightedElement<bool>({{24, false}, {1, true}});
    if (large) {  // stretch the last dim until the problem passes 66,000 elements
      std::int64_t rest = 1;
      for (std::size_t i = 0; i + 1 < shape.size(); ++i) rest *= std::max<std::int64_t>(shape[i], 1);
      shape.back() = std::max<std::int64_t>(shape.back(), 66000 / rest + 1);
    }
    fit_budget(shape, large ? std::max<std::int64_t>(max_elements(tier), 80000) : max_elements(tier));
    if (shape[0] < d.min_batch) shape[0] = d.min_batch;

    Problem p = default_problem(op, shape, pick(caps.profiles));
    p.dtype = pick([&] {  // float32 first: shrinking goes there
      std::vector<DType> order{DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
      return both(order, caps.dtypes);
    }());
    p.mode = pick(both(d.modes, caps.modes));
    p.direction = pick(both(d.directions, caps.directions));
    if (op == Op::kGroupNorm) p.num_groups = pick(divisors(shape[1]));
    if (!channels) {
      const int k = uniform(1, rank + 1);
      p.normalized_shape.assign(shape.end() - k, shape.end());
      if (d.min_batch > 1 && k == rank) p.normalized_shape.erase(p.normalized_shape.begin());
    }

    // Parameters: the profile's defaults first, then the awkward values.
    const double eps0 = p.eps.value_or(1e-5);
    std::vector<std::optional<double>> eps{p.eps, 1e-3, 1e-12, 1e-7, 0.1, 10.0};
    if (!d.positive_eps) eps.push_back(0.0);
    if (op == Op::kRmsNorm) eps.push_back(std::nullopt);
    p.eps = pick(eps);
    (void)eps0;
    std::vector<std::optional<double>> momenta{p.momentum, 0.0, 1.0, 0.5};
    if (p.profile == Profile::kPyTorch) momenta.push_back(std::nullopt);
    p.momentum = pick(momenta);
    if (p.momentum && *p.momentum == 0.5)
      p.momentum = static_cast<double>(uniform(1, 1000)) / 1000;  // a random momentum
    const bool affine_default = p.affine;
    p.affine = d.affine == Domain::Flag::kAny ? (*rc::gen::element(affine_default, !affine_default))
                                              : d.affine == Domain::Flag::kOn;
    // A bias without a weight (Keras' center=True, scale=False; ATen's weight=None) where the
    // profile allows it; a domain that asks for affine=off has neither.
    const bool bias_alone = d.affine == Domain::Flag::kAny && op != Op::kRmsNorm && p.profile != Profile::kOnnx;
    p.bias = (p.affine || bias_alone) &&
             (op != Op::kRmsNorm ? *rc::gen::element(true, false) : *rc::gen::element(false, true));
    if (op == Op::kBatchNorm || op == Op::kInstanceNorm) {
      p.track_running_stats = d.tracking == Domain::Flag::kAny ? *rc::gen::element(p.track_running_stats, !p.track_running_stats)
                                                               : d.tracking == Domain::Flag::kOn;
      if (d.running_statistics) p.track_running_stats = true, p.mode = Mode::kEval;
    }
    // Problems normalized with their own statistics: eval with running statistics becomes train
    // (or untracked where the implementation cannot train).
    if (d.batch_statistics && uses_running_stats(p)) {
      if (contains(caps.modes, Mode::kTrain) && contains(d.modes, Mode::kTrain)) p.mode = Mode::kTrain;
      else p.track_running_stats = false;
    }

    std::vector<Layout> layouts = both(d.layouts, caps.layouts);
    p.layout = pick(layouts);
    if (p.layout == Layout::kChannelsLast && (!channels || rank < 3)) p.layout = layouts[0];
    if (p.layout == Layout::kPermuted && rank < 2) p.layout = layouts[0];
    if ((p.layout == Layout::kChannelsLast && (!channels || rank < 3)) || (p.layout == Layout::kPermuted && rank < 2))
      p.layout = Layout::kContiguous;

    Expected<Geometry> g = geometry(p);
    p.values = gen_values(d, p.dtype, g ? g->set_size : 1);
    // Subnormal data with eps = 0: the squares underflow in any float32 accumulator (1/sqrt(0));
    // no kernel bug class lives there, so tiny values come with the profile's eps.
    // The same for a constant set with eps = 0: 0/0, which the reference defines as NaN.
    if ((p.values.kind == ValueKind::kTiny || p.values.kind == ValueKind::kConstant) && p.eps && *p.eps == 0)
      p.eps = 1e-5;
    p.seed = uniform<std::uint64_t>(0, 1u << 30);
    RC_PRE(validate(p).ok());  // never expected: the repairs above keep every problem valid
    return p;
  });
}

}  // namespace normcheck::properties
