#include "properties/restricted.h"

#include <algorithm>

namespace normcheck::properties {
namespace {

template <class T>
void keep_only(std::vector<T>& v, const std::vector<T>& allowed) {
  if (allowed.empty()) return;
  std::erase_if(v, [&](const T& x) { return std::find(allowed.begin(), allowed.end(), x) == allowed.end(); });
}

class Narrowed final : public impls::Implementation {
 public:
  Narrowed(std::unique_ptr<impls::Implementation> inner, const Narrowing& n) : inner_(std::move(inner)), exclude_(n.exclude) {
    caps_ = inner_->capabilities();
    keep_only(caps_.ops, n.ops);
    keep_only(caps_.dtypes, n.dtypes);
    keep_only(caps_.profiles, n.profiles);
  }
  std::string_view name() const override { return inner_->name(); }
  std::string_view description() const override { return inner_->description(); }
  const impls::Capabilities& capabilities() const override { return caps_; }
  std::optional<std::string> supports(const Problem& p) const override {
    if (auto why = caps_.refuses(p, caps_.devices.empty() ? Device::kCPU : caps_.devices[0])) return why;
    if (exclude_)
      if (auto why = exclude_(p)) return why;
    return inner_->supports(p);
  }
  Status run(const Problem& p, const Inputs& in, impls::Outputs& out) override { return inner_->run(p, in, out); }
  Status restart() override { return inner_->restart(); }

 private:
  std::unique_ptr<impls::Implementation> inner_;
  impls::Capabilities caps_;
  std::function<std::optional<std::string>(const Problem&)> exclude_;
};

}  // namespace

std::unique_ptr<impls::Implementation> narrowed(std::unique_ptr<impls::Implementation> impl, const Narrowing& n) {
  return std::make_unique<Narrowed>(std::move(impl), n);
}

}  // namespace normcheck::properties
