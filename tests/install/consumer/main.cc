// Evaluates LayerNorm of [1, 2, 3, 4] with eps = 0 exactly: mean 2.5, var 1.25, so
// y = (x - 2.5) / sqrt(1.25), and y[3] = 1.5 / sqrt(1.25) = 1.3416407864998738...
#include <cmath>
#include <cstdio>
#include <vector>

#include "reference/reference.h"

int main() {
  using namespace normcheck;
  Expected<Problem> p = parse_problem("layer_norm shape=1x4 dtype=float64 eps=0 affine=0 bias=0 normalized_shape=4");
  if (!p) return std::printf("parse: %s\n", p.message().c_str()), 1;
  const std::vector<double> x{1, 2, 3, 4};
  const Tensor t = Tensor::from_values(DType::kFloat64, {1, 4}, x);
  Inputs in;
  in.x = t.view();
  Expected<reference::Result> r = reference::evaluate(*p, in);
  if (!r) return std::printf("evaluate: %s\n", r.message().c_str()), 1;
  const double y3 = r->y.values()[3];
  std::printf("y[3] = %.17g\n", y3);
  return y3 == 1.5 / std::sqrt(1.25) ? 0 : 1;  // both sides correctly rounded: sqrt is IEEE-exact
}
