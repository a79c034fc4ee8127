// Structural relations: what a sample's output may depend on, layouts, and identities between ops.
#include <algorithm>
#include <cmath>
#include <optional>
#include <span>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

/// Runs q on x_q with weight/bias given (or generated), returning both sides.
struct Side {
  GeneratedInputs in;
  Evaluated e;
};
/// impl == nullptr: the reference stands in for the implementation (its y only: the relations
/// read y), where the run does not cover q's op.
Expected<Side> side(impls::Implementation* impl, const Problem& q, const std::vector<double>& xq,
                    const std::vector<double>* weight, const std::vector<double>* bias) {
  Expected<GeneratedInputs> in = make_inputs_with_x(q, xq);
  if (!in) return in.status();
  if (weight) in->weight = Tensor::from_values(q.dtype, affine_shape(q), *weight), in->views.weight = in->weight.view();
  if (bias) in->bias = Tensor::from_values(q.dtype, affine_shape(q), *bias), in->views.bias = in->bias.view();
  Side s{std::move(*in), {}};
  if (impl) {
    s.e = evaluate_both(*impl, q, s.in);
    return s;
  }
  s.e.want = reference::evaluate(q, s.in.views);
  if (!s.e.want) {
    s.e.got.status = Status::refusal(s.e.want.message());  // the profile's own refusal of q
    return s;
  }
  s.e.got.out.y = s.e.want->y;  // shares the storage
  s.e.got.out.views.y = s.e.got.out.y.view();
  return s;
}

bool covers(const CheckOptions& o, Op op) { return o.ops.empty() || contains(o.ops, op); }

/// An identity's other side: q, with p's dtype, eps, mode and seed and contiguous, on x_q. Without
/// a side, `verdict` is what the check returns now: skipped where impl lacks q, settled()'s verdict
/// on q otherwise (a matched refusal, an error, the poison left).
struct Other {
  std::optional<Side> side;
  CaseResult verdict;
};
Other other_side(impls::Implementation& impl, const Problem& p, Problem q, const std::vector<double>& xq,
                 const std::vector<double>* weight, const std::vector<double>* bias, const CheckOptions& o) {
  q.dtype = p.dtype, q.eps = p.eps, q.mode = p.mode, q.seed = p.seed, q.layout = Layout::kContiguous;
  // An op the run does not gate (`gate --op`, a policy without it) is not asked of impl: the
  // relation holds impl's op against the reference's answer for the other.
  const bool from_reference = !covers(o, q.op);
  if (!from_reference)
    if (const auto why = impl.supports(q)) return {std::nullopt, CaseResult::skipped(std::string(name(q.op)) + ": " + *why)};
  Expected<Side> s = side(from_reference ? nullptr : &impl, q, xq, weight, bias);
  if (!s) return {std::nullopt, CaseResult::failed("inputs: " + s.message())};
  if (auto v = settled(q, s->e, s->in.views.x, o)) return {std::nullopt, *v};
  return {std::move(*s), {}};
}

/// LayerNorm, InstanceNorm, GroupNorm, RMSNorm, LayerNorm2d: sample 0's output is the same when
/// the other samples change.
CaseResult batch_independence(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated a = evaluate_both(impl, p, *in);
  if (auto v = settled(p, a, in->views.x, o)) return *v;
  const std::int64_t per_sample = numel_of(p.shape) / std::max<std::int64_t>(p.shape[0], 1);
  std::vector<double> x = in->x.values();
  for (std::size_t i = static_cast<std::size_t>(per_sample); i < x.size(); ++i) x[i] = -2 * x[i] + 5;
  Problem q = p;
  q.seed = p.seed;  // same weight, bias and dy
  Expected<GeneratedInputs> in_b = make_inputs_with_x(q, x);
  if (!in_b) return CaseResult::failed("inputs: " + in_b.message());
  const Evaluated b = evaluate_both(impl, q, *in_b);
  if (auto v = settled(q, b, in_b->views.x, o)) return *v;
  TensorView ya = a.got.out.views.y, yb = b.got.out.views.y;
  std::vector<std::int64_t> head_shape{per_sample};
  ya.shape = yb.shape = head_shape;
  ya.strides = yb.strides = {1};
  auto head = [&](const Tensor& t) {
    std::vector<double> v = t.values();
    v.resize(static_cast<std::size_t>(per_sample));
    return Tensor::from_values(DType::kFloat64, head_shape, v);
  };
  return compare_runs("y", yb, ya, head(b.want->y_bound), head(a.want->y_bound), {}, o);
}

/// The same values through another layout give the same y (and dx) within both bounds.
CaseResult layout_equivalence(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  if (p.layout == Layout::kContiguous) return CaseResult::skipped("a contiguous draw: no other layout to compare");
  Problem c = p;
  c.layout = Layout::kContiguous;
  if (impl.supports(c)) return CaseResult::skipped("layout contiguous not supported, nothing to compare with");
  Expected<GeneratedInputs> in = make_inputs(p);
  Expected<GeneratedInputs> in_c = make_inputs(c);  // same seed: the same values, densely
  if (!in || !in_c) return CaseResult::failed("inputs failed");
  const Evaluated a = evaluate_both(impl, p, *in);
  const Evaluated b = evaluate_both(impl, c, *in_c);
  if (auto v = settled(p, a, in->views.x, o)) return *v;
  if (!b.got.status.ok()) return CaseResult::failed("contiguous failed where " + std::string(name(p.layout)) + " ran");
  if (auto v = settled(c, b, in_c->views.x, o)) return *v;
  CaseResult r = compare_runs("y", a.got.out.views.y, b.got.out.views.y, a.want->y_bound, b.want->y_bound, {}, o);
  if (a.got.out.views.dx && b.got.out.views.dx)
    r.absorb(compare_runs("dx", *a.got.out.views.dx, *b.got.out.views.dx, *a.want->dx_bound, *b.want->dx_bound, {}, o));
  if (!r.passed()) r.detail = std::string(name(p.layout)) + " vs contiguous: " + r.detail;
  return r;
}

/// GroupNorm with G = C is InstanceNorm, and with G = 1 it is LayerNorm over (C, spatial) with the
/// per-channel weight broadcast over the spatial positions.
CaseResult group_norm_identities(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated gn = evaluate_both(impl, p, *in);
  if (auto v = settled(p, gn, in->views.x, o)) return *v;
  const std::int64_t C = p.shape[1];
  // The spatial size from the dims themselves (numel / (N C) is 0 for an empty batch).
  const std::int64_t S = numel_of(std::span<const std::int64_t>(p.shape).subspan(2));
  const std::vector<double> x = in->x.values();
  const std::vector<double> w = p.affine ? in->weight.values() : std::vector<double>{};
  const std::vector<double> b = p.bias ? in->bias.values() : std::vector<double>{};
  Problem q;
  std::vector<double> qw, qb;
  if (p.num_groups == C && p.shape.size() >= 3) {  // instance_norm needs a spatial dim
    q = default_problem(Op::kInstanceNorm, p.shape, p.profile);
    q.affine = p.affine, q.bias = p.bias, q.track_running_stats = false;
    qw = w, qb = b;
  } else if (p.num_groups == 1) {
    q = default_problem(Op::kLayerNorm, p.shape, p.profile);
    q.normalized_shape.assign(p.shape.begin() + 1, p.shape.end());
    q.affine = p.affine, q.bias = p.bias;
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t s = 0; s < S; ++s) {
        if (p.affine) qw.push_back(w[static_cast<std::size_t>(c)]);
        if (p.bias) qb.push_back(b[static_cast<std::size_t>(c)]);
      }
  } else {
    return CaseResult::skipped("G is neither 1 nor C (or C without a spatial dim): no identity to check");
  }
  // (The profile may refuse the other op: instance_norm over one spatial element.)
  Other other = other_side(impl, p, q, x, p.affine ? &qw : nullptr, p.bias ? &qb : nullptr, o);
  if (!other.side) return other.verdict;
  const Evaluated& e = other.side->e;
  CaseResult r = compare_runs("y", gn.got.out.views.y, e.got.out.views.y, gn.want->y_bound, e.want->y_bound, {}, o);
  if (!r.passed()) r.detail = "group_norm(G=" + std::to_string(p.num_groups) + ") vs " + std::string(name(q.op)) + ": " + r.detail;
  return r;
}

/// v's values taken in this side's element order: element i of the result is v's element at[i].
Tensor gathered(const TensorView& v, DType t, const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& at) {
  std::vector<double> out;
  out.reserve(at.size());
  for (const std::int64_t j : at) out.push_back(v.get_linear(j));
  return Tensor::from_values(t, shape, out);
}

/// instance_norm on (N, C, S...) is batch_norm on (1, N C, S...) with the weight repeated per
/// sample; layer_norm over D trailing values of R rows is batch_norm on the (D, R) transpose
/// (both without affine: layer_norm's weight is per position, batch_norm's per channel); and
/// layer_norm_2d on (N, C, S...) is layer_norm over C of the channels-last (N, S..., C) tensor.
/// Both sides normalize the same sets of the same values, so their exact outputs are equal.
CaseResult cross_op_identities(impls::Implementation& impl, const Problem& generated, const CheckOptions& o) {
  Problem p = generated;
  if (p.op == Op::kLayerNorm) p.affine = p.bias = false;
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated a = evaluate_both(impl, p, *in);
  if (auto v = settled(p, a, in->views.x, o)) return *v;
  const std::vector<double> x = in->x.values();
  if (x.empty()) return CaseResult::skipped("an empty batch: no values to relate");
  const std::vector<double> w = p.affine ? in->weight.values() : std::vector<double>{};
  const std::vector<double> b = p.bias ? in->bias.values() : std::vector<double>{};
  const std::span<const std::int64_t> dims(p.shape);
  std::vector<double> qx(x.size()), qw, qb;
  std::vector<std::int64_t> at(x.size());  // at[i]: the other side's index of this side's element i
  Problem q;
  switch (p.op) {
    case Op::kInstanceNorm: {  // the same memory order: element i is element i
      const std::int64_t N = p.shape[0], C = p.shape[1];
      std::vector<std::int64_t> shape = p.shape;
      shape[0] = 1, shape[1] = N * C;
      q = default_problem(Op::kBatchNorm, shape, p.profile);
      q.affine = p.affine, q.bias = p.bias;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t c = 0; c < C; ++c) {
          if (p.affine) qw.push_back(w[static_cast<std::size_t>(c)]);
          if (p.bias) qb.push_back(b[static_cast<std::size_t>(c)]);
        }
      for (std::size_t i = 0; i < x.size(); ++i) at[i] = static_cast<std::int64_t>(i), qx[i] = x[i];
      break;
    }
    case Op::kLayerNorm: {  // x[r, d] = x_T[d, r]
      const std::int64_t D = numel_of(p.normalized_shape), R = numel_of(dims.first(dims.size() - p.normalized_shape.size()));
      q = default_problem(Op::kBatchNorm, {D, R}, p.profile);
      q.affine = q.bias = false;
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t d = 0; d < D; ++d) {
          const auto i = static_cast<std::size_t>(r * D + d);
          at[i] = d * R + r, qx[static_cast<std::size_t>(at[i])] = x[i];
        }
      break;
    }
    case Op::kLayerNorm2d: {  // x[n, c, s] = x_cl[n, s, c]
      const std::int64_t N = p.shape[0], C = p.shape[1], S = numel_of(dims.subspan(2));
      std::vector<std::int64_t> shape{N};
      shape.insert(shape.end(), p.shape.begin() + 2, p.shape.end());
      shape.push_back(C);
      q = default_problem(Op::kLayerNorm, shape, p.profile);
      q.normalized_shape = {C};
      q.affine = p.affine, q.bias = p.bias, qw = w, qb = b;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t c = 0; c < C; ++c)
          for (std::int64_t s = 0; s < S; ++s) {
            const auto i = static_cast<std::size_t>((n * C + c) * S + s);
            at[i] = (n * S + s) * C + c, qx[static_cast<std::size_t>(at[i])] = x[i];
          }
      break;
    }
    default:
      return {};  // outside the domain (instance_norm, layer_norm, layer_norm_2d)
  }
  // Batch statistics on both sides: the domain draws only problems normalized with their own.
  q.track_running_stats = false;
  // (The profile may refuse the other side: batch_norm over one value per channel in training.)
  Other other = other_side(impl, p, q, qx, p.affine ? &qw : nullptr, p.bias ? &qb : nullptr, o);
  if (!other.side) return other.verdict;
  const Evaluated& e = other.side->e;
  const Tensor y_other = gathered(e.got.out.views.y, p.dtype, p.shape, at);
  const Tensor bound_other = gathered(e.want->y_bound.view(), DType::kFloat64, p.shape, at);
  CaseResult r = compare_runs("y", a.got.out.views.y, y_other.view(), a.want->y_bound, bound_other, {}, o);
  if (!r.passed()) r.detail = std::string(name(p.op)) + " vs " + std::string(name(q.op)) + " " + bracketed(q.shape) + ": " + r.detail;
  return r;
}

}  // namespace

std::vector<Property> structure_properties() {
  Domain per_sample;
  per_sample.ops = {Op::kLayerNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kRmsNorm, Op::kLayerNorm2d};
  per_sample.min_batch = 2;
  per_sample.directions = {Direction::kForward};
  Domain layouts;
  layouts.layouts = {Layout::kChannelsLast, Layout::kPermuted, Layout::kStrided};
  Domain groups;
  groups.ops = {Op::kGroupNorm};
  groups.directions = {Direction::kForward};
  Domain cross = groups;
  cross.ops = {Op::kInstanceNorm, Op::kLayerNorm, Op::kLayerNorm2d};
  cross.batch_statistics = true;
  return {
      {"batch_independence", "a sample's output ignores the other samples (all but batch_norm)", per_sample,
       batch_independence},
      {"layout_equivalence", "the same values through channels_last, permuted and strided views give the contiguous result",
       layouts, layout_equivalence},
      {"group_norm_identities", "group_norm with G = C is instance_norm and with G = 1 is layer_norm over (C, spatial)",
       groups, group_norm_identities},
      {"cross_op_identities",
       "instance_norm is batch_norm on (1, N C, ...), layer_norm is batch_norm on the transpose, layer_norm_2d is "
       "layer_norm on channels_last",
       cross, cross_op_identities},
  };
}

}  // namespace normcheck::properties
