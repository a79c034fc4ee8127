#include "properties/comparator.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace normcheck::properties {
namespace {

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// The kind of a failing element: NaN on one side only, else a value beyond its bound.
FailureKind element_kind(std::string_view output, double got, double want) {
  if (std::isnan(got) && !std::isnan(want)) return FailureKind::kNanWhereNumber;
  if (!std::isnan(got) && std::isnan(want)) return FailureKind::kNumberWhereNan;
  return value_kind(output);
}

OutputAgreement compare_one(std::string_view name, const Tensor& want, const Tensor* bound, const TensorView& got,
                            double multiplier) {
  OutputAgreement a;
  a.name = std::string(name);
  const std::vector<double> w = want.values();
  const std::vector<double> b = bound ? bound->values() : std::vector<double>(w.size(), 0.0);
  // ULPs of the output as the implementation wrote it (float32 saved statistics of bfloat16 data
  // are float32 values).
  const DType t = got.dtype;
  a.dtype = t;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(w.size()); ++i) {
    // An undecided element: a correct implementation may give any kind here (reference.h).
    if (reference::is_undecided(b[i])) {
      ++a.undecided;
      continue;
    }
    const double g = got.get_linear(i), wi = w[i], bi = b[i] * multiplier;
    ++a.compared;
    bool pass;
    double fraction = 0;
    if (std::isnan(wi) || std::isnan(g)) {
      pass = std::isnan(wi) && std::isnan(g);
      fraction = pass ? 0 : INFINITY;
    } else if (std::isinf(wi) || std::isinf(g)) {
      pass = wi == g;
      fraction = pass ? 0 : INFINITY;
    } else {
      const double err = std::fabs(g - wi);
      fraction = err == 0 ? 0 : (bi > 0 ? err / bi : INFINITY);
      pass = err <= bi;
    }
    const UlpDistance ulps = ulp_between(t, g, wi);
    if (!pass) {
      ++a.failures;
      if (a.first_failure.empty())
        a.first_failure = a.name + "[" + std::to_string(i) + "]: got " + fmt_double(g) + ", want " + fmt_double(wi) +
                          " (bound " + fmt_double(bi) + ", " + ulps.text() + ")";
    }
    if (ulps.defined()) {
      a.max_ulp = std::max(a.max_ulp, ulps.ulps);
      ++a.ulp_histogram[static_cast<std::size_t>(ulp_bin(ulps.ulps))];
    } else {
      ++a.no_ulp;
    }
    if (a.worst_index < 0 || fraction > a.max_bound_fraction) {
      a.max_bound_fraction = fraction;
      a.worst_index = i;
      a.worst_got = g;
      a.worst_want = wi;
      a.worst_bound = bi;
      a.worst_ulp = ulps;
      a.worst_kind = element_kind(a.name, g, wi);
    }
  }
  return a;
}

}  // namespace

std::string_view name(FailureKind k) {
  switch (k) {
    case FailureKind::kOther: return "other";
    case FailureKind::kRefused: return "refused";
    case FailureKind::kNotRefused: return "not_refused";
    case FailureKind::kNanWhereNumber: return "nan_where_number";
    case FailureKind::kNumberWhereNan: return "number_where_nan";
    case FailureKind::kAccuracy: return "accuracy";
    case FailureKind::kRunningStatistics: return "running_statistics";
    case FailureKind::kCrash: return "crash";
    case FailureKind::kTimeout: return "timeout";
  }
  return "other";
}

std::string_view words(FailureKind k) {
  switch (k) {
    case FailureKind::kOther: return "a relation broken";
    case FailureKind::kRefused: return "an error where the profile defines an answer";
    case FailureKind::kNotRefused: return "no refusal where the profile requires one";
    case FailureKind::kNanWhereNumber: return "NaN where a number is due";
    case FailureKind::kNumberWhereNan: return "a number where NaN is due";
    case FailureKind::kAccuracy: return "accuracy";
    case FailureKind::kRunningStatistics: return "running statistics";
    case FailureKind::kCrash: return "crash";
    case FailureKind::kTimeout: return "timeout";
  }
  return "a relation broken";
}

FailureKind value_kind(std::string_view output) {
  const bool running = output == "running_mean" || output == "running_var" || output == "num_batches_tracked";
  return running ? FailureKind::kRunningStatistics : FailureKind::kAccuracy;
}

bool is_convention(FailureKind k) {
  return k == FailureKind::kRefused || k == FailureKind::kNotRefused || k == FailureKind::kNanWhereNumber ||
         k == FailureKind::kNumberWhereNan || k == FailureKind::kRunningStatistics;
}

UlpDistance ulp_between(DType t, double got, double want) {
  if (std::isnan(got) != std::isnan(want)) return {NAN, "NaN against a number"};
  if (std::isnan(got)) return {0, {}};
  const std::int64_t a = ordinal(t, got), b = ordinal(t, want);
  // Ordinals count values away from zero on each side. The count is the error where the spacing
  // is one: within a binade or two (the values less than a factor of 2 apart) or among the evenly
  // spaced subnormals. Across zero it counts two half-lines, and from zero or a far smaller value
  // every binade between: figures of the exponent range, not of the error (dx of a constant dy,
  // exactly 0, computed as 1e-17: 4.4e18 float64 ulps; near-zero y of two runs within their
  // absolute bound: 2e11).
  if ((a < 0 && b > 0) || (a > 0 && b < 0)) return {NAN, "a sign change across zero"};
  const DTypeInfo& i = info(t);
  const std::int64_t min_normal = ordinal(t, i.min_normal);
  if (std::abs(a) < min_normal && std::abs(b) < min_normal) return {static_cast<double>(std::abs(a - b)), {}};
  if (a == 0 || b == 0) return {NAN, "zero against a normal number"};
  // Infinity is one step past max_finite: as far as 2 max_finite for the ratio.
  const auto magnitude = [&](double v) { return std::isinf(v) ? 2 * i.max_finite : std::fabs(v); };
  const double lo = std::min(magnitude(got), magnitude(want)), hi = std::max(magnitude(got), magnitude(want));
  if (hi > 2 * lo) return {NAN, "more than a factor of 2 apart"};
  return {static_cast<double>(ulp_distance(t, got, want)), {}};
}

std::string UlpDistance::text() const {
  if (!defined()) return "no ULP distance: " + std::string(none);
  return fmt_double(ulps) + " ulp";
}

int ulp_bin(double ulps) {
  int bin = 0;
  while (bin + 1 < kUlpBins && !(ulps < kUlpEdges[bin + 1])) ++bin;  // NaN lands in the last bin
  return bin;
}

bool Agreement::ok() const {
  if (!num_batches_tracked_ok) return false;
  for (const OutputAgreement& o : outputs) {
    if (o.failures > 0) return false;
  }
  return true;
}

std::string Agreement::summary() const {
  std::ostringstream os;
  if (!num_batches_tracked_ok) os << "num_batches_tracked differs\n";
  for (const OutputAgreement& o : outputs) {
    os << o.name << ": " << o.compared << " compared, ";
    if (o.undecided > 0) os << o.undecided << " undecided, ";
    os << o.failures << " beyond the bound, max " << o.max_ulp << " ulp";
    if (o.no_ulp > 0) os << " (" << o.no_ulp << " without a ULP distance)";
    os << ", max " << o.max_bound_fraction << " of the bound";
    if (!o.first_failure.empty()) os << "; first: " << o.first_failure;
    os << "\n";
  }
  return os.str();
}

Agreement compare(const Problem& p, const reference::Result& want, const impls::Outputs& got,
                  double bound_multiplier) {
  (void)p;
  Agreement a;
  struct Pair {
    std::string_view name;
    const std::optional<TensorView>* got;
  };
  const std::optional<TensorView> y = got.y;
  const Pair pairs[] = {{"y", &y},
                        {"mean", &got.mean},
                        {"rstd", &got.rstd},
                        {"running_mean", &got.running_mean},
                        {"running_var", &got.running_var},
                        {"dx", &got.dx},
                        {"dweight", &got.dweight},
                        {"dbias", &got.dbias}};
  for (const reference::NamedOutput& o : reference::present_outputs(want)) {
    for (const Pair& pr : pairs) {
      if (pr.name != o.name || !pr.got->has_value()) continue;
      a.outputs.push_back(compare_one(o.name, *o.value, o.bound, **pr.got, bound_multiplier));
    }
  }
  if (want.running_mean) a.num_batches_tracked_ok = got.num_batches_tracked == want.num_batches_tracked;
  return a;
}

}  // namespace normcheck::properties
