#pragma once
/// One case's tensors in shared memory (memfd): the host copies every input and the caller's
/// output buffers (poisoned, running stats holding the old values) into one region, the worker
/// maps it and the plugin writes its outputs there, and the host copies the outputs back.
#include <array>
#include <cstdint>

#include "impls/plugin/wire.h"
#include "impls/registry.h"
#include "normcheck/inputs.h"
#include "normcheck/problem.h"

namespace normcheck::impls {

class CaseRegion {
 public:
  /// Lays out and fills the region: x, dy, y and dx in p.layout, the rest contiguous.
  static Expected<CaseRegion> create(const Problem& p, const Inputs& in, const Outputs& out);
  CaseRegion(CaseRegion&& o) noexcept;
  CaseRegion& operator=(CaseRegion&&) = delete;
  CaseRegion(const CaseRegion&) = delete;
  ~CaseRegion();

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }
  const std::array<plugin_wire::SlotLayout, plugin_wire::kNumSlots>& slots() const { return slots_; }
  /// Copies y, mean, rstd, running_mean, running_var, dx, dweight, dbias back into out's views.
  void copy_outputs_to(const Outputs& out) const;

 private:
  CaseRegion() = default;
  TensorView view_of(int slot) const;

  int fd_ = -1;
  char* base_ = nullptr;
  std::uint64_t size_ = 0;
  std::array<plugin_wire::SlotLayout, plugin_wire::kNumSlots> slots_{};
};

}  // namespace normcheck::impls
