#!/usr/bin/env bash
# The test command (README "Quick start", and what .ci/run calls): installs the dependencies,
# builds everything in ./build, and runs the suite with CTest: every test but the nightly tier.
# Extra arguments go to ctest instead (e.g. ./ci/test.sh -L nightly, ./ci/test.sh -R reference).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
if [ $# -eq 0 ]; then set -- -LE nightly; fi
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
