#!/usr/bin/env bash
# The sanitizer job (docs/robustness.md): builds normcheck in ./build-asan with AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer on), runs the smoke label, then the short fuzz run
# (ci/fuzz.sh, clang + libFuzzer, in ./build-fuzz). Exits non-zero when a test fails OR when any
# process (a test, the normcheck binary a test ran, a plugin worker) wrote a sanitizer report, even
# if the test that ran it tolerated the failure: reports go to files, not to the stderr tests read.
#   NC_SANITIZE_SKIP_FUZZ=1   only the ASan/UBSan smoke run
#   extra arguments go to ctest (e.g. ./ci/sanitize.sh -R npy)
# LibTorch (not built with ASan), CUDA (no device here, and nvcc does not take -fsanitize) and the
# benchmarks are off in this build.
set -euo pipefail
cd "$(dirname "$0")/.."
NC_WITH_TORCH=0 NC_WITH_FUZZ=1 bash ci/install-deps.sh
jobs=${NC_JOBS:-$(nproc)}
build=build-asan
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

start=$(date +%s)
# -O1 -g1: fast enough to run the reference's multiprecision code, quick to compile, line numbers
# in the reports.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DNORMCHECK_SANITIZE=address,undefined -DNORMCHECK_WITH_TORCH=OFF -DNORMCHECK_WITH_CUDA=OFF \
  -DNORMCHECK_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
built=$(date +%s)

logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# ASan and LSan write one file per reporting process (<prefix>.<pid>), whoever captured its stderr;
# print_suppressions=0 keeps LSan quiet when clean.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:print_suppressions=0:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export LSAN_OPTIONS="print_suppressions=0"
rc=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" -L smoke "$@" || rc=$?
tested=$(date +%s)

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "ci/sanitize.sh: sanitizer reports (one file per process):" >&2
  for f in $reports; do
    echo "==== $f" >&2
    cat "$f" >&2
  done
  rc=1
fi
# GCC's UBSan runtime prints "runtime error:" on stderr whatever log_path says (checked): such a
# report is fatal (-fno-sanitize-recover), so it fails its process; one in a test's own output is
# also in CTest's log.
if grep -n -E "runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)" "$build/Testing/Temporary/LastTest.log" >&2; then
  echo "ci/sanitize.sh: sanitizer reports in the test output above" >&2
  rc=1
fi
echo "ci/sanitize.sh: build $((built - start)) s, smoke tests $((tested - built)) s under ASan+UBSan+LSan" >&2
if [ "$rc" != 0 ]; then
  echo "ci/sanitize.sh: FAILED (ctest or a sanitizer report above)" >&2
  exit "$rc"
fi

if [ "${NC_SANITIZE_SKIP_FUZZ:-0}" != 1 ]; then
  ./ci/fuzz.sh
fi
echo "ci/sanitize.sh: clean ($(($(date +%s) - start)) s in all)" >&2
