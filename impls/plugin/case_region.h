#pragma once
/// One case's tensors in shared memory (memfd): the host copies every input and the caller's
/// output buffers (poisoned, running stats holding the old values) into one region, the worker
/// maps it and the plugin writes its outputs there, and the host copies the outputs back.
///
/// Every tensor sits between guards of kGuardBytes (a whole AVX-512 vector) on each side, and
/// everything outside the outputs' elements (guards, alignment padding, the gaps of a strided
/// layout, the inputs) is filled with a pattern or the inputs' bytes and snapshotted: after the
/// call, check_writes() names the tensor a byte changed in, so a write one element or one SIMD
/// vector past an output, or into an input, fails the case.
#include <array>
#include <cstdint>
#include <vector>

#include "impls/plugin/wire.h"
#include "impls/registry.h"
#include "normcheck/inputs.h"
#include "normcheck/problem.h"

namespace normcheck::impls {

/// Bytes of guard before and after every tensor in the region.
inline constexpr std::int64_t kGuardBytes = 64;

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
  /// After a call: an error naming the tensor where a byte outside the outputs' elements changed
  /// ("wrote past the end of y", "modified its input x"), or ok. Running statistics count as
  /// inputs where the problem does not update them (eval mode).
  Status check_writes() const;

 private:
  CaseRegion() = default;
  TensorView view_of(int slot) const;
  /// The first byte in [from, to) that differs from the snapshot, or -1.
  std::int64_t first_change(std::int64_t from, std::int64_t to) const;
  /// The first changed byte of a strided slot's storage that is no element of it (a gap), or -1.
  std::int64_t first_gap_change(int slot) const;
  /// The error for a changed byte at `at` (bytes from the region's start) in slot's zone.
  Status violation(int slot, std::int64_t at) const;

  /// Where slot i's guards and storage lie, in bytes from the region's start:
  /// [begin, data) guard | [data, data_end) storage (a strided layout's has gaps) | [data_end, end) padding, guard.
  struct Zone {
    std::int64_t begin = 0, data = 0, data_end = 0, end = 0;
    bool gaps = false;  ///< strided layout: storage one larger per dim, elements from (1, 1, ...)
  };

  int fd_ = -1;
  char* base_ = nullptr;
  std::uint64_t size_ = 0;
  std::array<plugin_wire::SlotLayout, plugin_wire::kNumSlots> slots_{};
  std::array<Zone, plugin_wire::kNumSlots> zones_{};
  std::array<bool, plugin_wire::kNumSlots> output_{};  ///< the plugin's outputs in this problem
  std::vector<char> before_;                           ///< the region as the plugin received it
};

}  // namespace normcheck::impls
