#pragma once
/// The profile's refusals: problems a framework answers with an error instead of outputs, in one
/// table (docs/plugin-abi.md, "Refusals", lists it). The reference returns each as a
/// Status::refusal whose message starts with `message`; an implementation's refusal is matched by
/// `key`, the phrase of the framework's wording that stays put across its versions (compared as a
/// case-insensitive substring, so "Expected more than 1 value per channel when training, got
/// input size torch.Size([1, 3])" and "... got input size [1, 3]" both carry it).
#include <string_view>

#include "normcheck/problem.h"
#include "normcheck/status.h"

namespace normcheck::reference {

struct Refusal {
  std::string_view key;      ///< the phrase every framework version's message contains
  std::string_view message;  ///< the reference's message (the input size follows when with_shape)
  bool with_shape = true;
};

/// PyTorch's batch_norm in training (or without running statistics) on one value per channel.
inline constexpr Refusal kOneValuePerChannel{"more than 1 value per channel when training",
                                             "Expected more than 1 value per channel when training, got input size "};
/// PyTorch's instance_norm in training on one spatial element.
inline constexpr Refusal kOneSpatialElement{"more than 1 spatial element when training",
                                            "Expected more than 1 spatial element when training, got input size "};
/// PyTorch's InstanceNorm takes a number for momentum: momentum=None (BatchNorm's cumulative
/// average) with tracking in training is refused ("argument 'momentum' must be float, not NoneType").
inline constexpr Refusal kInstanceNormMomentumNone{
    "momentum",
    "Expected a momentum value for instance_norm training with track_running_stats=1 (momentum=none, the "
    "cumulative average, is batch_norm's), but got none",
    false};

inline constexpr const Refusal* kRefusals[] = {&kOneValuePerChannel, &kOneSpatialElement, &kInstanceNormMomentumNone};

/// The refusal r for problem p, as the reference returns it.
Status refuse(const Refusal& r, const Problem& p);
/// The table's refusal whose key phrase `message` contains, or nullptr.
const Refusal* refusal_named_in(std::string_view message);
/// Whether `message` contains `key`, ignoring ASCII case.
bool contains_key_phrase(std::string_view message, std::string_view key);

}  // namespace normcheck::reference
