#pragma once
/// The exit codes of every normcheck command (listed in `normcheck --help`; docs/gate.md).
namespace normcheck::tool {

inline constexpr int kExitOk = 0;           ///< the command did what it was asked; run / gate / merge: conforming
inline constexpr int kExitCheckFailed = 1;  ///< a check ran and failed: non-conforming (run, gate, merge), selfcheck, demo
inline constexpr int kExitUsage = 2;     ///< usage or input error: bad option, file, descriptor, policy, output dir
inline constexpr int kExitLoad = 3;      ///< the implementation could not be loaded (gate --plugin, --impl torch)
inline constexpr int kExitInternal = 4;  ///< an internal error (a bug in normcheck: please report it)

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok / conforming; 1 non-conforming (a check failed); 2 usage or input error (bad option, "
    "descriptor, policy, baseline or .npy file, output directory not writable); 3 the implementation could "
    "not be loaded (gate --plugin; run --impl torch or repro impl=torch where LibTorch is not available); 4 internal error.";

}  // namespace normcheck::tool
