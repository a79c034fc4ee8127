#!/usr/bin/env bash
# The test command (README "Quick start", and what .ci/run calls): installs the dependencies,
# builds everything in ./build, and runs the whole suite with CTest. Extra arguments go to ctest
# (e.g. ./ci/test.sh -L smoke, ./ci/test.sh -R reference).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
