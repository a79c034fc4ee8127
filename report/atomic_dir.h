#pragma once
/// Replacing a directory's files as a set: a reader that opens the directory sees the old set or
/// the new one, whole, never a mix (docs/robustness.md, "The report directory").
///
///   1. lock     flock(".DIR.lock") beside DIR: writers of one DIR take turns, the last one wins, whole
///   2. stage    the new files go into a fresh sibling ".DIR.new-XXXXXX", each flushed to disk
///   3. carry    entries of DIR that are not the set's (a user's) move into the sibling
///   4. swap     renameat2(RENAME_EXCHANGE): the sibling and DIR trade names in one step
///   5. clean    the sibling, now holding the old set, is removed
///
/// A writer killed at any step leaves DIR's set old or new; the next writer takes back what it
/// left beside DIR (the user's entries return to DIR, the rest is removed). Where DIR cannot be
/// exchanged (a mount point, a filesystem without RENAME_EXCHANGE) its files are replaced one by
/// one instead, each atomic on its own, and a warning on stderr says so.
#include <string>
#include <vector>

#include "normcheck/status.h"
#include "report/atomic_file.h"

namespace normcheck::report {

/// Makes files dir's set (dir created, with its parents, when missing); dir's other entries stay.
/// dir may be a symbolic link to a directory (its target is replaced, the link stays). An error,
/// with dir left as it was: dir names no directory of its own ("." or the working directory or
/// one above it), or dir is a file.
///
/// Test hook: with NORMCHECK_TEST_KILL_AFTER=k in the environment the writer SIGKILLs itself after
/// step k: 1 <= k <= n (n = files.size()) the k-th file staged, n + 1 the user's entries carried
/// (only over an existing dir), n + 2 the swap.
Status replace_directory(const std::string& dir, const std::vector<NamedContent>& files);

}  // namespace normcheck::report
