#include "reference/partial_stats.h"

namespace normcheck::reference {

PartialStats stats_from_sums(std::int64_t count, const ExactSum& s1, const ExactSum& s2) {
  PartialStats p;
  p.count = count;
  if (count == 0) return p;
  const Rational sum = to_rational(s1.value());
  p.mean = sum / count;
  p.m2 = to_rational(s2.value()) - sum * p.mean;
  return p;
}

PartialStats PartialStats::of(std::span<const double> values) {
  ExactSum s1, s2;
  for (double v : values) {
    s1.add(v);
    s2.add_product(v, v);
  }
  return stats_from_sums(static_cast<std::int64_t>(values.size()), s1, s2);
}

PartialStats PartialStats::merge(const PartialStats& a, const PartialStats& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  PartialStats r;
  r.count = a.count + b.count;
  const Rational delta = b.mean - a.mean;
  r.mean = a.mean + delta * b.count / r.count;
  r.m2 = a.m2 + b.m2 + delta * delta * a.count * b.count / r.count;
  return r;
}

}  // namespace normcheck::reference
