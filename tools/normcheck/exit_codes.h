#pragma once
/// The exit codes of every normcheck command (listed in `normcheck --help`).
namespace normcheck::tool {

inline constexpr int kExitOk = 0;           ///< the command did what it was asked
inline constexpr int kExitCheckFailed = 1;  ///< a check ran and failed (selfcheck, demo)
inline constexpr int kExitUsage = 2;     ///< usage or input error: bad option, file, descriptor, output dir
inline constexpr int kExitInternal = 3;  ///< an internal error (a bug in normcheck: please report it)

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 1 a check failed (selfcheck, demo); 2 usage or input error (bad option, "
    "descriptor or .npy file, output directory not writable); 3 internal error.";

}  // namespace normcheck::tool
