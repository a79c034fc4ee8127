#!/bin/sh
# Reads impls_bench's --benchmark_format=json output (a file, or stdin) and prints per problem:
# our CPU kernels' and LibTorch's bandwidth (read + write bytes / time), the speedup
# ours / LibTorch (LibTorch's time over ours), the fraction of memcpy bandwidth we reach, and at
# the end the median speedup. Skipped entries (an implementation refused the problem) show "-".
# With --benchmark_repetitions the median aggregate is used (mean, stddev and cv are ignored);
# without it, the fastest of the entries of a name.
#
#   build/bench/impls_bench --benchmark_format=json --benchmark_repetitions=3 \
#     --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true \
#     > impls.json && bench/summarize_impls.sh impls.json
set -eu
awk '
  function value(line) { sub(/^[^:]*:[ \t]*/, "", line); sub(/,[ \t]*$/, "", line); gsub(/"/, "", line); return line }
  /"benchmarks"[ \t]*:/ { inb = 1 }
  !inb { next }
  /^[ \t]*"name"[ \t]*:/ { name = value($0); skipped = 0; bps = "" }
  /^[ \t]*"error_occurred"[ \t]*:/ { if (value($0) == "true") skipped = 1 }
  /^[ \t]*"bytes_per_second"[ \t]*:/ {
    bps = value($0) + 0
    if (name ~ /_(mean|stddev|cv)$/) next
    agg = sub(/_median$/, "", name)
    sub(/\/real_time$/, "", name); sub(/\/min_time:[^\/]*$/, "", name)
    impl = name; sub(/^.*\//, "", impl)
    prob = name; sub(/\/[^\/]*$/, "", prob)
    if (!(prob in seen)) { seen[prob] = 1; order[++n] = prob }
    if (skipped) next
    if (agg) { rate[prob, impl] = bps; median[prob, impl] = 1; next }
    if (!((prob, impl) in median) && (!((prob, impl) in rate) || bps > rate[prob, impl])) rate[prob, impl] = bps
  }
  END {
    printf "%-60s %9s %9s %9s %8s %8s\n", "problem", "cpu GB/s", "torch", "memcpy", "speedup", "of memcpy"
    # by name (op/dtype/layout/mode/direction/shape): --benchmark_enable_random_interleaving
    # reports the problems in a random order
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && order[j - 1] > order[j]; --j) { x = order[j]; order[j] = order[j - 1]; order[j - 1] = x }
    m = 0
    for (i = 1; i <= n; ++i) {
      p = order[i]
      c = ((p, "cpu") in rate) ? rate[p, "cpu"] / 1e9 : -1
      t = ((p, "torch") in rate) ? rate[p, "torch"] / 1e9 : -1
      mc = ((p, "memcpy") in rate) ? rate[p, "memcpy"] / 1e9 : -1
      sp = (c > 0 && t > 0) ? c / t : -1
      fr = (c > 0 && mc > 0) ? c / mc : -1
      if (sp > 0) speedups[++m] = sp
      printf "%-60s %9s %9s %9s %8s %8s\n", p, (c > 0 ? sprintf("%.2f", c) : "-"), (t > 0 ? sprintf("%.2f", t) : "-"),
             (mc > 0 ? sprintf("%.2f", mc) : "-"), (sp > 0 ? sprintf("%.2fx", sp) : "-"), (fr > 0 ? sprintf("%.0f%%", 100 * fr) : "-")
    }
    if (m > 0) {
      for (i = 1; i <= m; ++i) for (j = i + 1; j <= m; ++j) if (speedups[j] < speedups[i]) { x = speedups[i]; speedups[i] = speedups[j]; speedups[j] = x }
      med = (m % 2) ? speedups[(m + 1) / 2] : (speedups[m / 2] + speedups[m / 2 + 1]) / 2
      printf "median speedup over %d problems: %.2fx; slowest: %.2fx\n", m, med, speedups[1]
    }
  }
' "${1:--}"
