#pragma once
/// The bytes of a case's inputs before a call, to check after it that the implementation left
/// them as they were. An implementation writes only its Outputs (the running statistics it
/// updates are the Outputs' copies); x, weight, bias, running_mean, running_var and grad_output
/// are read-only, and a kernel that normalizes in place or scribbles on a workspace it borrowed
/// from an input corrupts the caller's data.
#include <string>
#include <vector>

#include "normcheck/inputs.h"
#include "normcheck/status.h"

namespace normcheck::impls {

class InputSnapshot {
 public:
  explicit InputSnapshot(const Inputs& in);
  /// An error naming the first input (and element) whose bytes changed since the snapshot, or ok.
  /// `in` must be the same views the snapshot was taken of.
  Status check(const Inputs& in) const;

 private:
  std::vector<std::vector<char>> bytes_;  ///< per input, in named_inputs() order, element by element
};

}  // namespace normcheck::impls
