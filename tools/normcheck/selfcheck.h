#pragma once
/// The reference checking itself at run time, quickly: for every op x dtype x mode x direction, a
/// few small random problems are evaluated and their outputs compared with the independent oracle
/// (selfcheck_oracle.h). A subset of the unit tests, so that a user can trust the binary on their
/// machine.
#include <cstdint>
#include <string>
#include <vector>

namespace normcheck::tool {

struct SelfcheckOptions {
  std::uint64_t seed = 1;
  int cases = 20;  ///< random problems per group (each group also runs one constant and one pair problem)
};

/// One group: an op, a dtype, a mode and a direction.
struct GroupOutcome {
  std::string name;  ///< "batch_norm float32 train forward"
  int problems = 0;  ///< problems evaluated
  std::int64_t values_checked = 0;
  std::string failure;  ///< empty when the group passed; else the first failure and its repro line
  bool passed() const { return failure.empty(); }
};

struct SelfcheckReport {
  std::vector<GroupOutcome> groups;
  int passed() const;
  int failed() const;
};

SelfcheckReport run_selfcheck(const SelfcheckOptions& options);

}  // namespace normcheck::tool
