#pragma once
/// Helpers the mutants' tests share: one call of an implementation into poisoned outputs, the
/// reference's answer, and a bitwise fingerprint of every output.
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "impls/mutants/mutants.h"
#include "impls/mutants/witness.h"
#include "impls/registry.h"
#include "normcheck/problem.h"
#include "properties/comparator.h"
#include "reference/reference.h"

namespace normcheck::testing {

struct RunResult {
  Status status;
  impls::OwnedOutputs out;
};

/// Allocates p's outputs for impl (NaN-poisoned, running buffers copied in) and runs it.
inline RunResult run_impl(impls::Implementation& impl, const Problem& p, const Inputs& in) {
  RunResult r;
  auto o = impls::allocate_outputs(p, in, impl.capabilities());
  if (!o) {
    r.status = o.status();
    return r;
  }
  r.out = std::move(*o);
  r.status = impl.run(p, in, r.out.views);
  return r;
}

/// The bits of every element of every output, in a fixed order (NaN payloads aside).
inline std::vector<std::uint64_t> all_bits(const impls::Outputs& o) {
  std::vector<std::uint64_t> all;
  auto add = [&](const std::optional<TensorView>& v) {
    if (!v) return;
    for (std::int64_t i = 0; i < v->numel(); ++i) {
      const double d = v->get_linear(i);
      std::uint64_t b = 0;
      std::memcpy(&b, &d, 8);
      all.push_back(b);
    }
  };
  add(o.y);
  add(o.mean);
  add(o.rstd);
  add(o.running_mean);
  add(o.running_var);
  add(o.dx);
  add(o.dweight);
  add(o.dbias);
  all.push_back(static_cast<std::uint64_t>(o.num_batches_tracked));
  return all;
}

}  // namespace normcheck::testing
