#!/bin/sh
# Start-up time of the normcheck binary: `normcheck reference` on a 4-element LayerNorm, run N times
# (default 20), each timed with date +%s%N; prints the median, the fastest and the slowest in ms.
# Nothing here is asserted: docs/performance.md records the figures (issue 15, item 3).
#
#   bench/startup.sh build/tools/normcheck/normcheck [N]
set -eu
bin=${1:?usage: bench/startup.sh path/to/normcheck [runs]}
runs=${2:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
problem='layer_norm shape=1x4 dtype=float32'
"$bin" gen-sample --problem "$problem" --out "$dir/in" >/dev/null
run() { "$bin" reference --problem "$problem" --input "$dir/in/x.npy" --weight "$dir/in/weight.npy" --bias "$dir/in/bias.npy" --out "$dir/out" >/dev/null; }
run  # warm the page cache
i=0
while [ "$i" -lt "$runs" ]; do
  t0=$(date +%s%N)
  run
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
  i=$((i + 1))
done | sort -n | awk -v bin="$bin" '
  { us[NR] = $1 }
  END {
    median = NR % 2 ? us[(NR + 1) / 2] : (us[NR / 2] + us[NR / 2 + 1]) / 2
    printf "%s reference (4 elements), %d runs: median %.1f ms, min %.1f ms, max %.1f ms\n", bin, NR, median / 1000, us[1] / 1000, us[NR] / 1000
  }'
