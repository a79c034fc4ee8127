#!/usr/bin/env bash
# The main job (README "Quick start"): installs the dependencies, builds the normcheck command,
# and runs it with no arguments. Extra arguments go to normcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target normcheck
exec ./build/tools/normcheck/normcheck "$@"
