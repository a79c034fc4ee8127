#include "properties/inputs.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numbers>

namespace normcheck::properties {
namespace {

std::vector<double> normals(std::int64_t n, std::mt19937_64& rng, double center, double scale) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& e : v) e = center + scale * standard_normal(rng);
  return v;
}

/// Pairs mean +- j * 2^(k-4), j in 0..15, per set (an odd set's last element is the mean): every
/// value is an integer in 1..31 times 2^(k-4), so sums of up to 2^19 of them and of their squared
/// deviations are exact in float32, in any order, and every set's mean is `mean` exactly.
void exact_pairs(const Problem& p, const Geometry& g, double mean, std::mt19937_64& rng, std::vector<double>& x) {
  int k = 0;
  std::frexp(mean, &k);  // mean = 0.5 * 2^k
  const double quantum = std::ldexp(1.0, k - 1 - 4);
  std::vector<std::int64_t> pending(static_cast<std::size_t>(g.num_sets), -1);  // an unpaired index per set
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(x.size()); ++i) {
    std::int64_t& other = pending[static_cast<std::size_t>(set_of(p, g, i))];
    if (other < 0) {
      other = i;
      x[static_cast<std::size_t>(i)] = mean;  // stays the mean if the set has no partner for it
      continue;
    }
    const double d = static_cast<double>(rng() % 16) * quantum;
    x[static_cast<std::size_t>(other)] = mean + d;
    x[static_cast<std::size_t>(i)] = mean - d;
    other = -1;
  }
}

std::vector<double> x_values(const Problem& p, const Geometry& g, std::mt19937_64& rng) {
  const std::int64_t n = numel_of(p.shape);
  const Values& v = p.values;
  const DTypeInfo& t = info(p.dtype);
  switch (v.kind) {
    case ValueKind::kUniform: {
      std::vector<double> x(static_cast<std::size_t>(n));
      for (double& e : x) e = v.offset + v.spread * (2 * uniform01(rng) - 1);
      return x;
    }
    case ValueKind::kConstant:
      return std::vector<double>(static_cast<std::size_t>(n), v.offset);
    case ValueKind::kLarge: {
      const double m = large_magnitude(p.dtype, g.set_size);
      std::vector<double> x(static_cast<std::size_t>(n));
      for (double& e : x) e = m * (2 * uniform01(rng) - 1);
      return x;
    }
    case ValueKind::kTiny:
      return normals(n, rng, 0.0, 4 * t.min_normal);
    case ValueKind::kExactPairs: {
      std::vector<double> x(static_cast<std::size_t>(n));
      exact_pairs(p, g, v.offset, rng, x);
      return x;
    }
    case ValueKind::kNaN:
    case ValueKind::kInf: {
      std::vector<double> x = normals(n, rng, 0.0, 1.0);
      if (n > 0) {
        const double bad = v.kind == ValueKind::kNaN ? std::numeric_limits<double>::quiet_NaN()
                                                     : std::numeric_limits<double>::infinity();
        x[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(n))] = bad;
      }
      return x;
    }
    case ValueKind::kNormal:
      break;
  }
  return normals(n, rng, v.offset, v.spread);
}

/// The x-independent inputs, drawn after x from the same stream.
void add_parameters(const Problem& p, std::mt19937_64& rng, GeneratedInputs& in) {
  const DType t = p.dtype;
  const std::vector<std::int64_t> ashape = affine_shape(p);
  const std::int64_t an = numel_of(ashape);
  if (p.affine) {
    in.weight = Tensor::from_values(t, ashape, normals(an, rng, 1.0, 0.25));
    in.views.weight = in.weight.view();
  }
  if (p.bias) {
    in.bias = Tensor::from_values(t, ashape, normals(an, rng, 0.0, 0.25));
    in.views.bias = in.bias.view();
  }
  if (tracks_running_stats(p)) {
    const std::vector<std::int64_t> c_shape{p.shape[1]};
    const bool centered = p.values.kind == ValueKind::kNormal || p.values.kind == ValueKind::kUniform;
    const double center = centered || p.values.kind == ValueKind::kConstant ? p.values.offset : 0.0;
    const double spread = centered ? p.values.spread : 1.0;
    in.running_mean = Tensor::from_values(t, c_shape, normals(p.shape[1], rng, center, spread));
    std::vector<double> var(static_cast<std::size_t>(p.shape[1]));
    for (double& e : var) e = spread * spread * (0.5 + uniform01(rng));
    in.running_var = Tensor::from_values(t, c_shape, var);
    in.views.running_mean = in.running_mean.view();
    in.views.running_var = in.running_var.view();
    in.views.num_batches_tracked = static_cast<std::int64_t>(rng() % 5);
  }
  if (p.direction == Direction::kBackward) {
    in.grad_output = Tensor::from_values(t, p.shape, normals(numel_of(p.shape), rng, 0.0, 1.0), p.layout);
    in.views.grad_output = in.grad_output.view();
  }
}

}  // namespace

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }

double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log(u1) is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double large_magnitude(DType t, std::int64_t set_size) {
  if (t == DType::kFloat16) return info(t).max_finite / 2;
  const double m = static_cast<double>(std::max<std::int64_t>(set_size, 1));
  return std::min(info(t).max_finite / 2, std::sqrt(static_cast<double>(FLT_MAX) / (4 * m)));
}

std::int64_t set_of(const Problem& p, const Geometry& g, std::int64_t i) {
  return set_index(p.op, g, i / (g.S * g.C), (i / g.S) % g.C, i % g.S);
}

LongStats long_stats(const Problem& p, const Geometry& g, const std::vector<double>& x) {
  const auto sets = static_cast<std::size_t>(g.num_sets);
  LongStats st{std::vector<double>(sets, 0), std::vector<long double>(sets, 0), std::vector<long double>(sets, 0)};
  const bool rms = p.op == Op::kRmsNorm;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto j = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    st.mean[j] += rms ? 0.0L : static_cast<long double>(x[i]), ++st.count[j];
  }
  for (std::size_t j = 0; j < sets; ++j) st.mean[j] = st.count[j] > 0 ? st.mean[j] / st.count[j] : 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto j = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    st.m2[j] += (x[i] - st.mean[j]) * (x[i] - st.mean[j]);
  }
  return st;
}

Expected<GeneratedInputs> make_inputs(const Problem& p) {
  Expected<Geometry> g = geometry(p);
  if (!g) return g.status();
  std::mt19937_64 rng(p.seed);
  const std::vector<double> x = x_values(p, *g, rng);
  GeneratedInputs in;
  in.x = Tensor::from_values(p.dtype, p.shape, x, p.layout);
  in.views.x = in.x.view();
  add_parameters(p, rng, in);
  return in;
}

Expected<GeneratedInputs> make_inputs_with_x(const Problem& p, const std::vector<double>& x_values) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return in;
  if (static_cast<std::int64_t>(x_values.size()) != numel_of(p.shape)) {
    return Status::error("Expected " + std::to_string(numel_of(p.shape)) + " x values, but got " +
                         std::to_string(x_values.size()));
  }
  in->x = Tensor::from_values(p.dtype, p.shape, x_values, p.layout);
  in->views.x = in->x.view();
  return in;
}

}  // namespace normcheck::properties
