#!/usr/bin/env bash
# Installs normcheck's build and test dependencies from Debian's packages.
# Idempotent: when every package is already installed it does nothing (no apt-get update either).
#   NC_WITH_TORCH=0 skips libtorch-dev and python3-torch (the build works without LibTorch; its adapter is then
#   not built, and the Python torch adapter's test skips).
#   NC_WITH_FUZZ=1 adds clang and its sanitizer/libFuzzer runtimes (ci/fuzz.sh, ci/sanitize.sh).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev            # Boost.Multiprecision (header-only): the reference's big numbers
  librapidcheck-dev       # property-based testing
  libgtest-dev libgmock-dev
  libbenchmark-dev        # bench/
  libdlpack-dev           # dlpack/dlpack.h: the tensor exchange ABI
  libcli11-dev nlohmann-json3-dev libfmt-dev
  time                    # GNU time -v: peak memory of the reference in the benchmark notes
  chromium                # headless: the report's index.html opened in a browser (report_html_in_chromium)
  libpython3-dev          # gate --python: the host embeds CPython (impls/python; without it, no --python)
  python3-numpy           # examples/plugin/python/numpy_norms.py (tests/impls/python); a case exported by `repro --save` loaded in NumPy
)
if [ "${NC_WITH_TORCH:-1}" != 0 ]; then
  packages+=(libtorch-dev)
  packages+=(python3-torch)  # examples/plugin/python/torch_functional.py (its test skips, saying why, without it)
fi
if [ "${NC_WITH_FUZZ:-0}" != 0 ]; then
  packages+=(clang libclang-rt-14-dev)  # clang-14: -fsanitize=fuzzer,address,undefined
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ci/install-deps.sh: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
