#pragma once
/// The hand-written norms from the project's seed material, reproduced faithfully (their quirks
/// included) so that the report can show how code people copy differs from the frameworks:
///   "seed-groupnorm"      a GroupNorm module that normalizes with the UNBIASED variance;
///   "textbook-batchnorm"  a batch_norm function with the Keras-style momentum and biased moving
///                         variance, and no num_batches_tracked.
/// Both are plain CPU code, forward only (the originals rely on autograd for gradients).
#include <memory>
#include <vector>

#include "impls/registry.h"

namespace normcheck::impls {

/// Appends every seed implementation, each made fresh, in a fixed order.
void add_seed_implementations(std::vector<std::unique_ptr<Implementation>>& out);

std::unique_ptr<Implementation> make_seed_groupnorm();
std::unique_ptr<Implementation> make_textbook_batchnorm();

}  // namespace normcheck::impls
