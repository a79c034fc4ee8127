// Laying out, filling and reading back a case's shared-memory region.
#include "impls/plugin/case_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace normcheck::impls {
namespace {

using namespace plugin_wire;

constexpr std::int64_t kAlign = 64;

char* byte_at(const TensorView& v, std::int64_t element_offset) {
  return static_cast<char*>(v.data) + element_offset * static_cast<std::int64_t>(size_of(v.dtype));
}

bool dense(const TensorView& v) { return v.is_contiguous() || v.is_channels_last(); }

/// Copies every element of src into dst (same dtype and shape, any strides), bit for bit.
void copy_view(const TensorView& src, const TensorView& dst) {
  const std::int64_t n = src.numel();
  if (n == 0) return;
  const std::size_t elem = size_of(src.dtype);
  if (src.strides == dst.strides && dense(src)) {
    std::memcpy(dst.data, src.data, static_cast<std::size_t>(n) * elem);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i)
    std::memcpy(byte_at(dst, dst.offset_of_linear(i)), byte_at(src, src.offset_of_linear(i)), elem);
}

bool in_problem_layout(int slot) { return slot == kX || slot == kGradOutput || slot == kY || slot == kDx; }

/// What the guards, the padding and the gaps of strided tensors hold: a byte pattern, neither
/// zeros nor the NaN poison (what a stray store most likely writes), so such a store shows.
constexpr unsigned char kGuardPattern[8] = {0xA5, 0x5A, 0xC3, 0x3C, 0x96, 0x69, 0xF0, 0x0F};

/// The slots forward/backward write: the outputs, and the running statistics where forward
/// updates them (training with tracking). Everything else must come back as it went in.
std::array<bool, kNumSlots> outputs_of(const Problem& p) {
  std::array<bool, kNumSlots> o{};
  for (int slot : {kY, kMean, kRstd, kDx, kDweight, kDbias}) o[slot] = true;
  const bool updates_running = tracks_running_stats(p) && p.mode == Mode::kTrain;
  o[kRunningMean] = o[kRunningVar] = updates_running;
  return o;
}

/// The views to copy into the region, per slot (running stats: the caller's output buffers,
/// which hold the old values, else the inputs').
std::array<std::optional<TensorView>, kNumSlots> sources(const Inputs& in, const Outputs& out) {
  std::array<std::optional<TensorView>, kNumSlots> s;
  s[kX] = in.x;
  s[kWeight] = in.weight;
  s[kBias] = in.bias;
  s[kRunningMean] = out.running_mean ? out.running_mean : in.running_mean;
  s[kRunningVar] = out.running_var ? out.running_var : in.running_var;
  s[kGradOutput] = in.grad_output;
  s[kY] = out.y;
  s[kMean] = out.mean;
  s[kRstd] = out.rstd;
  s[kDx] = out.dx;
  s[kDweight] = out.dweight;
  s[kDbias] = out.dbias;
  return s;
}

Status check_shape(const char* what, const TensorView& v, const Problem& p) {
  if (v.shape != p.shape)
    return Status::error(std::string("Expected ") + what + " of shape " + bracketed(p.shape) +
                         " (the problem's), but got " + bracketed(v.shape));
  if (v.dtype != p.dtype)
    return Status::error(std::string("Expected ") + what + " of dtype " + std::string(name(p.dtype)) +
                         ", but got " + std::string(name(v.dtype)));
  if (v.numel() > 0 && v.data == nullptr)
    return Status::error(std::string("Expected ") + what + " with data, but got null");
  return {};
}

}  // namespace

Expected<CaseRegion> CaseRegion::create(const Problem& p, const Inputs& in, const Outputs& out) {
  NC_RETURN_IF_ERROR(check_shape("x", in.x, p));
  NC_RETURN_IF_ERROR(check_shape("y", out.y, p));
  if (p.direction == Direction::kBackward) {
    if (!in.grad_output) return Status::error("Expected grad_output (direction=backward), but got none");
    NC_RETURN_IF_ERROR(check_shape("grad_output", *in.grad_output, p));
    if (!out.dx) return Status::error("Expected a dx output buffer (direction=backward), but got none");
  }
  const auto src = sources(in, out);
  CaseRegion r;
  r.output_ = outputs_of(p);
  std::int64_t size = 0;
  for (int i = 0; i < kNumSlots; ++i) {
    if (!src[i]) continue;
    Zone& z = r.zones_[i];
    z.begin = size;
    size += kGuardBytes;
    z.data = size;
    if (src[i]->numel() > 0 && src[i]->data == nullptr)
      return Status::error(std::string("Expected ") + slot_name(i) + " with data, but got null");
    SlotLayout& s = r.slots_[i];
    s.present = true;
    s.dtype = static_cast<std::uint32_t>(src[i]->dtype);
    s.shape = src[i]->shape;
    // x, dy, y, dx in the problem's layout (strided: a view into storage one larger per dim,
    // starting at element (1, 1, ...)); weight, bias, running stats, mean, rstd contiguous.
    const Layout layout = in_problem_layout(i) ? p.layout : Layout::kContiguous;
    s.strides = strides_for(layout, s.shape);
    const std::int64_t elem = static_cast<std::int64_t>(size_of(src[i]->dtype));
    std::int64_t stored = src[i]->numel(), start = 0;
    if (layout == Layout::kStrided && stored > 0) {
      stored = 1;
      for (std::size_t d = 0; d < s.shape.size(); ++d) {
        stored *= s.shape[d] + 1;
        start += s.strides[d];
      }
    }
    s.offset = size + start * elem;
    z.gaps = layout == Layout::kStrided && stored > 0;
    z.data_end = size + stored * elem;
    size += (stored * elem + kAlign - 1) / kAlign * kAlign + kGuardBytes;
    z.end = size;
  }
  r.size_ = static_cast<std::uint64_t>(std::max<std::int64_t>(size, kAlign));
  r.fd_ = memfd_create("normcheck-case", MFD_CLOEXEC);
  if (r.fd_ < 0)
    return Status::error(std::string("cannot create the case's shared memory: ") + std::strerror(errno));
  if (ftruncate(r.fd_, static_cast<off_t>(r.size_)) != 0)
    return Status::error("cannot size the case's shared memory to " + std::to_string(r.size_) +
                         " bytes: " + std::strerror(errno));
  void* base = mmap(nullptr, r.size_, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd_, 0);
  if (base == MAP_FAILED)
    return Status::error(std::string("cannot map the case's shared memory: ") + std::strerror(errno));
  r.base_ = static_cast<char*>(base);
  for (int i = 0; i < kNumSlots; ++i) {
    if (!src[i]) continue;
    const Zone& z = r.zones_[i];
    // The pattern where no element lies: the guards, the padding, a strided layout's gaps.
    const auto fill = [&](std::int64_t from, std::int64_t to) {
      for (std::int64_t b = from; b < to; ++b) r.base_[b] = static_cast<char>(kGuardPattern[b % sizeof kGuardPattern]);
    };
    fill(z.begin, z.data);
    fill(z.data_end, z.end);
    if (z.gaps) fill(z.data, z.data_end);
    copy_view(*src[i], r.view_of(i));
  }
  r.before_.assign(r.base_, r.base_ + r.size_);
  return r;
}

std::int64_t CaseRegion::first_change(std::int64_t from, std::int64_t to) const {
  if (from >= to || std::memcmp(base_ + from, before_.data() + from, static_cast<std::size_t>(to - from)) == 0) return -1;
  while (base_[from] == before_[static_cast<std::size_t>(from)]) ++from;
  return from;
}

std::int64_t CaseRegion::first_gap_change(int slot) const {
  const Zone& z = zones_[slot];
  if (!z.gaps) return -1;
  const std::vector<std::int64_t>& shape = slots_[slot].shape;
  const std::int64_t elem = static_cast<std::int64_t>(size_of(static_cast<DType>(slots_[slot].dtype)));
  for (std::int64_t k = 0; k * elem < z.data_end - z.data; ++k) {
    // Storage index k in the (shape + 1) buffer; a gap where some coordinate is 0.
    bool gap = false;
    for (std::int64_t rest = k, d = static_cast<std::int64_t>(shape.size()) - 1; d >= 0 && !gap; --d) {
      gap = rest % (shape[static_cast<std::size_t>(d)] + 1) == 0;
      rest /= shape[static_cast<std::size_t>(d)] + 1;
    }
    if (gap)
      if (std::int64_t at = first_change(z.data + k * elem, z.data + (k + 1) * elem); at >= 0) return at;
  }
  return -1;
}

Status CaseRegion::check_writes() const {
  for (int i = 0; i < kNumSlots; ++i) {
    if (!slots_[i].present) continue;
    const Zone& z = zones_[i];
    // An input's whole zone is as it was; an output's is but for its elements.
    std::int64_t at = output_[i] ? first_change(z.begin, z.data) : first_change(z.begin, z.end);
    if (at < 0 && output_[i]) at = first_change(z.data_end, z.end);
    if (at < 0 && output_[i]) at = first_gap_change(i);
    if (at >= 0) return violation(i, at);
  }
  return {};
}

Status CaseRegion::violation(int slot, std::int64_t at) const {
  const Zone& z = zones_[slot];
  const std::string tensor = slot_name(slot);
  if (!output_[slot]) {
    const bool running = slot == kRunningMean || slot == kRunningVar;
    if (at < z.data || at >= z.data_end)
      return Status::error("plugin wrote outside its input " + tensor + " (into the guard bytes around it)");
    return Status::error("plugin modified its input " + tensor +
                         (running ? " (running statistics are not updated in this problem)" : ""));
  }
  if (at < z.data)
    return Status::error("plugin wrote before the start of " + tensor + " (" + std::to_string(z.data - at) +
                         " bytes before its first element)");
  if (at >= z.data_end)
    return Status::error("plugin wrote past the end of " + tensor + " (" + std::to_string(at - z.data_end) +
                         " bytes after its last element)");
  return Status::error("plugin wrote between the elements of " + tensor + " (a gap of its strided layout)");
}

CaseRegion::CaseRegion(CaseRegion&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      base_(std::exchange(o.base_, nullptr)),
      size_(o.size_),
      slots_(std::move(o.slots_)),
      zones_(o.zones_),
      output_(o.output_),
      before_(std::move(o.before_)) {}

CaseRegion::~CaseRegion() {
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

TensorView CaseRegion::view_of(int slot) const {
  const SlotLayout& s = slots_[slot];
  TensorView v;
  v.data = base_ + s.offset;
  v.dtype = static_cast<DType>(s.dtype);
  v.shape = s.shape;
  v.strides = s.strides;
  return v;
}

void CaseRegion::copy_outputs_to(const Outputs& out) const {
  auto back = [&](int slot, const std::optional<TensorView>& dst) {
    if (dst && slots_[slot].present) copy_view(view_of(slot), *dst);
  };
  back(kY, out.y);
  back(kMean, out.mean);
  back(kRstd, out.rstd);
  back(kRunningMean, out.running_mean);
  back(kRunningVar, out.running_var);
  back(kDx, out.dx);
  back(kDweight, out.dweight);
  back(kDbias, out.dbias);
}

}  // namespace normcheck::impls
