#!/usr/bin/env bash
# The fuzz run (docs/robustness.md): builds the libFuzzer harnesses (fuzz/*_fuzz.cc) with clang in
# ./build-fuzz (ASan + UBSan + libFuzzer's coverage on normcheck's code) and runs each on its seed
# corpus, fixtures/fuzz/<name without _fuzz>/, for NC_FUZZ_SECONDS (default 20) seconds.
# The committed corpus is only read: new inputs go to build-fuzz/fuzz/<name>-corpus/. A crash,
# a leak, a sanitizer report, a failed assertion in a harness or a timeout fails the run and
# leaves the input as build-fuzz/fuzz/<name>-crash-<sha1> (replay: build-fuzz/fuzz/<name> FILE).
#   ./ci/fuzz.sh                    every harness, 20 s each
#   ./ci/fuzz.sh npy_fuzz           one harness
#   NC_FUZZ_SECONDS=600 NC_FUZZ_JOBS=2 ./ci/fuzz.sh descriptor_fuzz   longer, 2 processes
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${NC_FUZZ_SECONDS:-20}
fuzz_jobs=${NC_FUZZ_JOBS:-1}
NC_WITH_TORCH=0 NC_WITH_FUZZ=1 bash ci/install-deps.sh
jobs=${NC_JOBS:-$(nproc)}
build=build-fuzz
cxx=${NC_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
cc=${NC_FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$cxx" ] || [ -z "$cc" ]; then
  echo "ci/fuzz.sh: needs clang (apt-get install clang libclang-rt-14-dev, or ci/install-deps.sh)" >&2
  exit 2
fi

if [ $# -gt 0 ]; then
  fuzzers=("$@")
else
  fuzzers=()
  for f in fuzz/*_fuzz.cc; do fuzzers+=("$(basename "$f" .cc)"); done
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
  -DNORMCHECK_FUZZ=ON -DNORMCHECK_SANITIZE=address,undefined \
  -DNORMCHECK_BUILD_TESTS=OFF -DNORMCHECK_BUILD_BENCH=OFF -DNORMCHECK_BUILD_EXAMPLES=OFF \
  -DNORMCHECK_WITH_TORCH=OFF -DNORMCHECK_WITH_CUDA=OFF "${launcher[@]}" --no-warn-unused-cli >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for f in "${fuzzers[@]}"; do
  # One harness at a time, so that one that does not build does not hide the others' results.
  if ! cmake --build "$build" -j"$jobs" --target "$f"; then
    echo "ci/fuzz.sh: $f does not build (with clang: see above)" >&2
    failed+=("$f (build)")
    continue
  fi
  corpus=fixtures/fuzz/${f%_fuzz}
  scratch=$build/fuzz/$f-corpus
  mkdir -p "$scratch"
  [ -d "$corpus" ] || { echo "ci/fuzz.sh: no seed corpus $corpus for $f" >&2; exit 2; }
  echo "ci/fuzz.sh: $f for ${seconds} s on $corpus ($(find "$corpus" -type f | wc -l) seeds)" >&2
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/fuzz/$f-")
  if [ "$fuzz_jobs" -gt 1 ]; then args+=(-fork="$fuzz_jobs"); fi
  if ! "$build/fuzz/$f" "${args[@]}" "$scratch" "$corpus" 2>"$build/fuzz/$f.log"; then
    tail -n 60 "$build/fuzz/$f.log" >&2
    failed+=("$f")
    continue
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$build/fuzz/$f.log" >&2 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "ci/fuzz.sh: FAILED: ${failed[*]} (inputs: $build/fuzz/*-crash-*, *-leak-*, *-timeout-*; logs: $build/fuzz/*.log)" >&2
  exit 1
fi
echo "ci/fuzz.sh: ${fuzzers[*]} clean" >&2
