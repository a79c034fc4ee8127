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

OutputAgreement compare_one(std::string_view name, const Tensor& want, const Tensor* bound, const TensorView& got,
                            double multiplier) {
  OutputAgreement a;
  a.name = std::string(name);
  const std::vector<double> w = want.values();
  const std::vector<double> b = bound ? bound->values() : std::vector<double>(w.size(), 0.0);
  const DType t = want.dtype();
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(w.size()); ++i) {
    // An undecided element: a correct implementation may give any kind here (reference.h).
    if (reference::is_undecided(b[i])) {
      ++a.undecided;
      continue;
    }
    const double g = got.get_linear(i), wi = w[i], bi = b[i] * multiplier;
    ++a.compared;
    bool pass;
    double fraction = 0, ulps = 0;
    if (std::isnan(wi) || std::isnan(g)) {
      pass = std::isnan(wi) && std::isnan(g);
      ulps = fraction = pass ? 0 : INFINITY;
    } else if (std::isinf(wi) || std::isinf(g)) {
      pass = wi == g;
      ulps = fraction = pass ? 0 : INFINITY;
    } else {
      const double err = std::fabs(g - wi);
      ulps = static_cast<double>(ulp_distance(t, g, wi));
      fraction = err == 0 ? 0 : (bi > 0 ? err / bi : INFINITY);
      pass = err <= bi;
    }
    if (!pass) {
      ++a.failures;
      if (a.first_failure.empty())
        a.first_failure = a.name + "[" + std::to_string(i) + "]: got " + fmt_double(g) + ", want " + fmt_double(wi) +
                          " (bound " + fmt_double(bi) + ", " + fmt_double(ulps) + " ulp)";
    }
    if (ulps > a.max_ulp) a.max_ulp = ulps;
    ++a.ulp_histogram[static_cast<std::size_t>(ulp_bin(ulps))];
    if (a.worst_index < 0 || fraction > a.max_bound_fraction) {
      a.max_bound_fraction = fraction;
      a.worst_index = i;
      a.worst_got = g;
      a.worst_want = wi;
      a.worst_bound = bi;
    }
  }
  return a;
}

}  // namespace

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
    os << o.failures << " beyond the bound, max " << o.max_ulp << " ulp, max " << o.max_bound_fraction
       << " of the bound";
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
