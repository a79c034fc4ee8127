#pragma once
/// Small helpers shared by the reference's self-checks: owning inputs for reference::evaluate
/// built from an oracle::Case, bit-level comparison, and printing of values.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "normcheck/tensor.h"
#include "reference/reference.h"
#include "tests/reference/oracle.h"

namespace normcheck::testing {

/// The tensors of a case (contiguous, the problem's dtype) and the reference's view of them.
struct OwnedInputs {
  Tensor x, weight, bias, running_mean, running_var, grad_output;
  reference::Inputs inputs;
};

inline OwnedInputs make_inputs(const oracle::Case& c) {
  const Problem& p = c.problem;
  OwnedInputs o;
  o.x = Tensor::from_values(p.dtype, p.shape, c.x);
  o.inputs.x = o.x.view();
  const std::vector<std::int64_t> ashape = affine_shape(p);
  if (p.affine) {
    o.weight = Tensor::from_values(p.dtype, ashape, c.weight);
    o.inputs.weight = o.weight.view();
  }
  if (p.bias) {
    o.bias = Tensor::from_values(p.dtype, ashape, c.bias);
    o.inputs.bias = o.bias.view();
  }
  if (tracks_running_stats(p)) {
    o.running_mean = Tensor::from_values(p.dtype, {p.shape[1]}, c.running_mean);
    o.running_var = Tensor::from_values(p.dtype, {p.shape[1]}, c.running_var);
    o.inputs.running_mean = o.running_mean.view();
    o.inputs.running_var = o.running_var.view();
    o.inputs.num_batches_tracked = c.num_batches_tracked;
  }
  if (p.direction == Direction::kBackward) {
    o.grad_output = Tensor::from_values(p.dtype, p.shape, c.grad_output);
    o.inputs.grad_output = o.grad_output.view();
  }
  return o;
}

/// Bit-identical up to the sign of zero; NaN equals NaN.
inline bool same_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

/// "1.2345678901234567 (0x1.3c0ca428c59fbp+0)".
inline std::string show(double v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.17g (%a)", v, v);
  return buf;
}

inline std::string show(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%.17g", i ? ", " : "", v[i]);
    s += buf;
  }
  return s + "]";
}

/// The inputs of a case as text (for failure messages and the report).
inline std::string show(const oracle::Case& c) {
  std::string s = "problem: " + to_string(c.problem) + "\n  x = " + show(c.x);
  if (!c.weight.empty()) s += "\n  weight = " + show(c.weight);
  if (!c.bias.empty()) s += "\n  bias = " + show(c.bias);
  if (!c.running_mean.empty()) s += "\n  running_mean = " + show(c.running_mean);
  if (!c.running_var.empty()) s += "\n  running_var = " + show(c.running_var);
  if (!c.grad_output.empty()) s += "\n  grad_output = " + show(c.grad_output);
  s += "\n  num_batches_tracked = " + std::to_string(c.num_batches_tracked);
  return s;
}

}  // namespace normcheck::testing
