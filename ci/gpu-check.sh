#!/usr/bin/env bash
# ci/gpu-check.sh [DEPS_PREFIX]: the CUDA checks in one go, on a machine with an NVIDIA GPU.
#   1. configure against a CUDA LibTorch (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
#      when its C++ ABI matches ours (else without LibTorch, and says so);
#   2. build only cuda_impl_test and cuda_bench;
#   3. run the cuda tests (ctest -R cuda);
#   4. compute-sanitizer --tool memcheck, then racecheck, on the cuda test binary (the kernel-path
#      sweep and the small tests: sanitizers slow every launch down by 10-100x);
#   5. the benchmark, JSON into $OUT/cuda_bench.json.
# Every step runs even if an earlier one failed; $OUT/summary.txt lists each step's exit status and
# the script exits non-zero if any failed. Logs go to $OUT (default ./gpu-check-out).
#
# The GPU machine has the CUDA toolkit, a compiler and Python's torch, but not the Debian -dev
# packages the build needs. Extract them once, on a Debian 12 (bookworm) machine with apt, into a
# prefix that travels with the tree (shared/ is carried to the GPU machine):
#
#   mkdir -p shared/gpu-debs && cd shared/gpu-debs
#   apt-get download libboost1.74-dev libdlpack-dev libcli11-dev nlohmann-json3-dev \
#     libfmt-dev libfmt9 libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian \
#     librapidcheck-dev
#   # when the GPU machine has no cmake / ninja either:
#   apt-get download cmake cmake-data ninja-build libjsoncpp25 librhash0 libuv1 libarchive13
#   for d in *.deb; do dpkg -x "$d" ../gpu-deps; done
#
# and pass the prefix (default shared/gpu-deps, or $NC_GPU_DEPS): its usr/ goes first on
# CMAKE_PREFIX_PATH, its usr/bin on PATH and its usr/lib/x86_64-linux-gnu on LD_LIBRARY_PATH.
# Environment: OUT, NC_GPU_DEPS, NC_CUDA_ARCH (default 90), NC_BENCH_MIN_TIME (default 0.05),
# NC_BENCH_FILTER (default all), NC_WITH_TORCH=0 (skip LibTorch).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/gpu-check-out}
mkdir -p "$out"
deps=${1:-${NC_GPU_DEPS:-shared/gpu-deps}}
[ -d "$deps" ] && deps=$(cd "$deps" && pwd)
build=${NC_GPU_BUILD:-$root/build-gpu}
summary=$out/summary.txt
: >"$summary"
status=0
step() {  # step NAME COMMAND...: runs it, logs to $out/NAME.log, records the exit status
  local name=$1
  shift
  echo "== $name: $*" | tee -a "$summary"
  local start=$SECONDS
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  echo "   rc=$rc ($((SECONDS - start)) s)" | tee -a "$summary"
  [ $rc -eq 0 ] || { status=1; tail -n 30 "$out/$name.log"; }
  return $rc
}

if [ -d "$deps/usr" ]; then
  export PATH="$deps/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  prefix="$deps/usr"
else
  echo "note: no dependency prefix at $deps; relying on the system's packages" | tee -a "$summary"
  prefix=""
fi
export PATH="/usr/local/cuda/bin:$PATH"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || echo "warning: nvidia-smi failed" | tee -a "$summary"

# LibTorch: Python's torch carries a CUDA LibTorch. Our libraries use the C++11 ABI; a torch built
# without it cannot link against them (std::string crosses the adapter's interface).
torch_prefix=""
with_torch=OFF
if [ "${NC_WITH_TORCH:-1}" != 0 ] && python3 -c 'import torch' 2>/dev/null; then
  abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 0)
  cuda_ok=$(python3 -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0)
  if [ "$abi" = 1 ]; then
    torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
    with_torch=ON
    echo "LibTorch: $torch_prefix (cuda available: $cuda_ok)" | tee -a "$summary"
  else
    echo "LibTorch: skipped, torch was built with _GLIBCXX_USE_CXX11_ABI=0" | tee -a "$summary"
  fi
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
step configure cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="${prefix}${torch_prefix:+;$torch_prefix}" \
  -DCMAKE_CUDA_ARCHITECTURES="${NC_CUDA_ARCH:-90}" -DNORMCHECK_WITH_TORCH=$with_torch \
  -DNORMCHECK_WITH_CUDA=ON -DNORMCHECK_BUILD_TESTS=ON -DNORMCHECK_BUILD_BENCH=ON
step build cmake --build "$build" -j"$(nproc)" --target cuda_impl_test cuda_bench

test_bin=$build/tests/impls/cuda/cuda_impl_test
step tests ctest --test-dir "$build" -R cuda --output-on-failure -j4
# The tests must have run, not skipped: on this machine a skip is a failure.
if grep -q "Skipped" "$out/tests.log"; then
  echo "   the cuda tests SKIPPED on a GPU machine (see tests.log)" | tee -a "$summary"
  status=1
fi

sanitizer=$(command -v compute-sanitizer || true)
[ -n "$sanitizer" ] || [ ! -x /usr/local/cuda/compute-sanitizer/compute-sanitizer ] ||
  sanitizer=/usr/local/cuda/compute-sanitizer/compute-sanitizer
sanitize=("${sanitizer:-compute-sanitizer}" --error-exitcode 1 --print-limit 20)
small='CudaImpl.KernelPathsSweep:CudaImpl.MisalignedDevicePointersTakeTheScalarPaths:CudaImpl.RefusesWhatPyTorchRefuses:CudaImpl.EmptyShapesAgainstReference'
step memcheck "${sanitize[@]}" --tool memcheck --leak-check full "$test_bin" --gtest_filter="$small"
step racecheck "${sanitize[@]}" --tool racecheck --racecheck-report hazard "$test_bin" \
  --gtest_filter='CudaImpl.KernelPathsSweep'
step synccheck "${sanitize[@]}" --tool synccheck "$test_bin" --gtest_filter='CudaImpl.KernelPathsSweep'

step bench "$build/bench/cuda_bench" --benchmark_format=json --benchmark_out="$out/cuda_bench.json" \
  --benchmark_out_format=json --benchmark_min_time="${NC_BENCH_MIN_TIME:-0.05}" \
  --benchmark_filter="${NC_BENCH_FILTER:-.}"

echo "overall: $([ $status -eq 0 ] && echo PASSED || echo FAILED)" | tee -a "$summary"
exit $status
