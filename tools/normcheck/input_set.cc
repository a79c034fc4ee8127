#include "tools/normcheck/input_set.h"

#include "normcheck/npy.h"
#include "tools/normcheck/cli_error.h"

namespace normcheck::tool {

reference::Inputs InputSet::views() const {
  reference::Inputs in;
  in.x = x.view();
  auto view_of = [](const std::optional<Tensor>& t) -> std::optional<TensorView> {
    if (!t) return std::nullopt;
    return t->view();
  };
  in.weight = view_of(weight);
  in.bias = view_of(bias);
  in.running_mean = view_of(running_mean);
  in.running_var = view_of(running_var);
  in.grad_output = view_of(grad_output);
  in.num_batches_tracked = num_batches_tracked;
  return in;
}

const std::vector<InputSlot>& input_slots() {
  static const std::vector<InputSlot> kSlots = {
      {"x", "--input", &InputSet::x, nullptr},
      {"weight", "--weight", nullptr, &InputSet::weight},
      {"bias", "--bias", nullptr, &InputSet::bias},
      {"running_mean", "--running-mean", nullptr, &InputSet::running_mean},
      {"running_var", "--running-var", nullptr, &InputSet::running_var},
      {"grad_output", "--grad-output", nullptr, &InputSet::grad_output},
  };
  return kSlots;
}

const Tensor* tensor_in(const InputSet& in, const InputSlot& slot) {
  if (slot.required) return &(in.*slot.required);
  return (in.*slot.optional) ? &*(in.*slot.optional) : nullptr;
}

const std::string& InputPaths::of(std::string_view slot_name) const {
  if (slot_name == "x") return x;
  if (slot_name == "weight") return weight;
  if (slot_name == "bias") return bias;
  if (slot_name == "running_mean") return running_mean;
  if (slot_name == "running_var") return running_var;
  NC_CHECK(slot_name == "grad_output", std::string(slot_name));
  return grad_output;
}

Expected<InputSet> read_input_set(const InputPaths& paths, std::int64_t num_batches_tracked) {
  InputSet set;
  set.num_batches_tracked = num_batches_tracked;
  for (const InputSlot& slot : input_slots()) {
    const std::string& path = paths.of(slot.name);
    if (path.empty()) continue;
    Expected<Tensor> t = read_npy(path);
    if (!t) return with_context(slot.option, t.status());
    if (slot.required) {
      set.*slot.required = std::move(*t);
    } else {
      set.*slot.optional = std::move(*t);
    }
  }
  return set;
}

Expected<std::vector<std::string>> write_input_set(const std::string& dir, const InputSet& in) {
  std::vector<std::string> written;
  for (const InputSlot& slot : input_slots()) {
    const Tensor* t = tensor_in(in, slot);
    if (t == nullptr) continue;
    const std::string path = dir + "/" + std::string(slot.name) + ".npy";
    NC_RETURN_IF_ERROR(write_npy(path, t->view()));
    written.emplace_back(slot.name);
  }
  return written;
}

}  // namespace normcheck::tool
