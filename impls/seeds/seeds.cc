// The seed family's hook for the registry.
#include "impls/seeds/seeds.h"

namespace normcheck::impls {

void add_seed_implementations(std::vector<std::unique_ptr<Implementation>>& out) {
  out.push_back(make_seed_groupnorm());
  out.push_back(make_textbook_batchnorm());
}

}  // namespace normcheck::impls
