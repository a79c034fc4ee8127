#pragma once
/// Helpers for the cpu implementation's tests: the shared harness (tests/impls/harness.h) and
/// the implementation itself.
#include <memory>
#include <vector>

#include "impls/cpu/cpu.h"
#include "tests/impls/harness.h"

namespace normcheck::testing {

inline std::unique_ptr<impls::Implementation> make_cpu() {
  std::vector<std::unique_ptr<impls::Implementation>> v;
  impls::add_cpu_implementations(v);
  return std::move(v.at(0));
}

inline RunResult run_cpu(impls::Implementation& impl, const Problem& p, const Inputs& in) {
  return run_impl(impl, p, in);
}

}  // namespace normcheck::testing
