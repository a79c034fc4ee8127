#pragma once
/// The inputs of one problem as owning tensors: what `normcheck reference` reads from .npy files
/// and what the sample generator makes and writes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/status.h"
#include "normcheck/tensor.h"
#include "reference/reference.h"

namespace normcheck::tool {

struct InputSet {
  Tensor x;
  std::optional<Tensor> weight, bias, running_mean, running_var, grad_output;
  std::int64_t num_batches_tracked = 0;

  /// Views for reference::evaluate (they point into this set, which must outlive them).
  reference::Inputs views() const;
};

/// One input slot: its file name stem (x, weight, bias, running_mean, running_var, grad_output),
/// the command-line option that names its file, and the tensor in a set.
struct InputSlot {
  std::string_view name;
  std::string_view option;
  Tensor InputSet::*required = nullptr;                 ///< x
  std::optional<Tensor> InputSet::*optional = nullptr;  ///< the others
};
/// The six slots, x first.
const std::vector<InputSlot>& input_slots();
/// The tensor a set holds in `slot`, or nullptr where it has none.
const Tensor* tensor_in(const InputSet& in, const InputSlot& slot);

/// The files to read, by slot name; an empty path means "not given".
struct InputPaths {
  std::string x, weight, bias, running_mean, running_var, grad_output;
  const std::string& of(std::string_view slot_name) const;
};

/// Reads every given file; an error names the option and the file ("--weight: w.npy: ...").
Expected<InputSet> read_input_set(const InputPaths& paths, std::int64_t num_batches_tracked);

/// Writes every present input as dir/<name>.npy (dir must exist); returns the names written.
Expected<std::vector<std::string>> write_input_set(const std::string& dir, const InputSet& in);

}  // namespace normcheck::tool
