#include "impls/input_snapshot.h"

#include <cstring>
#include <optional>
#include <utility>

namespace normcheck::impls {
namespace {

using NamedInput = std::pair<const char*, std::optional<TensorView>>;

std::vector<NamedInput> named_inputs(const Inputs& in) {
  return {{"x", in.x},
          {"weight", in.weight},
          {"bias", in.bias},
          {"running_mean", in.running_mean},
          {"running_var", in.running_var},
          {"grad_output", in.grad_output}};
}

/// A host view's elements, in logical order, as bytes (empty for a device view or no data).
std::vector<char> bytes_of(const std::optional<TensorView>& v) {
  if (!v || v->device != Device::kCPU || v->data == nullptr) return {};
  const std::size_t elem = size_of(v->dtype);
  std::vector<char> out(static_cast<std::size_t>(v->numel()) * elem);
  for (std::int64_t i = 0; i < v->numel(); ++i)
    std::memcpy(out.data() + static_cast<std::size_t>(i) * elem,
                static_cast<const char*>(v->data) + v->offset_of_linear(i) * static_cast<std::int64_t>(elem), elem);
  return out;
}

}  // namespace

InputSnapshot::InputSnapshot(const Inputs& in) {
  for (const auto& [name, view] : named_inputs(in)) bytes_.push_back(bytes_of(view));
}

Status InputSnapshot::check(const Inputs& in) const {
  const std::vector<NamedInput> inputs = named_inputs(in);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::vector<char> now = bytes_of(inputs[k].second);
    if (now == bytes_[k]) continue;
    const std::size_t elem = size_of(inputs[k].second->dtype);
    std::size_t i = 0;
    while (i < now.size() && now[i] == bytes_[k][i]) ++i;
    return Status::error(std::string("Expected the input ") + inputs[k].first + " unchanged, but the implementation modified it (element " +
                         std::to_string(i / elem) + ")");
  }
  return {};
}

}  // namespace normcheck::impls
