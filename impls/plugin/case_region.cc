// Laying out, filling and reading back a case's shared-memory region.
#include "impls/plugin/case_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
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
  std::int64_t size = 0;
  for (int i = 0; i < kNumSlots; ++i) {
    if (!src[i]) continue;
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
    size += (stored * elem + kAlign - 1) / kAlign * kAlign;
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
  for (int i = 0; i < kNumSlots; ++i)
    if (src[i]) copy_view(*src[i], r.view_of(i));
  return r;
}

CaseRegion::CaseRegion(CaseRegion&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      base_(std::exchange(o.base_, nullptr)),
      size_(o.size_),
      slots_(std::move(o.slots_)) {}

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
