#pragma once
/// Replacing a directory's files as a set: a reader that opens the directory sees the old set or
/// the new one, whole, never a mix (docs/robustness.md, "The report").
///
///   1. lock     flock(".DIR.lock") beside DIR: writers of one DIR take turns, the last one wins, whole
///   2. stage    the new files go into a fresh sibling ".DIR.new-XXXXXX", each flushed to disk
///   3. swap     renameat2(RENAME_EXCHANGE): the sibling and DIR trade names in one step
///   4. clean    the sibling, now holding the old set, is removed
///
/// A writer killed at any step leaves DIR old or new; the next writer removes what it left beside
/// DIR. Where the filesystem cannot exchange two directories (no RENAME_EXCHANGE, or DIR a mount
/// point) the staged files are renamed into DIR one by one instead, each atomic on its own, and a
/// warning on stderr says so.
#include <string>
#include <vector>

#include "normcheck/status.h"
#include "report/atomic_file.h"

namespace normcheck::report {

/// Makes files the whole content of dir (created, with its parents, when missing). dir may be a
/// symbolic link to a directory (its target is replaced, the link stays). An error, with dir left
/// as it was: dir names no directory of its own ("." or the working directory or one above it),
/// dir is not a directory, or it holds anything but files of the set (a report directory is
/// normcheck's: a user's files in it would go with the old set).
///
/// Test hook: with NORMCHECK_TEST_KILL_AFTER=k in the environment the writer SIGKILLs itself after
/// step k, 1 <= k <= files.size() the k-th file staged, k = files.size() + 1 the swap.
Status replace_directory(const std::string& dir, const std::vector<NamedContent>& files);

}  // namespace normcheck::report
