#!/bin/sh
# Reads reference_bench's --benchmark_format=json output (a file, or stdin) and prints, per problem,
# the certified and the plain-double real time and their ratio (certified / plain). No jq needed:
# Google Benchmark writes one "key": value pair per line. With repetitions, the fastest run counts.
#
#   build/bench/reference_bench --benchmark_format=json > bench.json && bench/summarize.sh bench.json
set -eu
awk '
  function to_ms(t, unit) {
    if (unit == "ns") return t / 1e6
    if (unit == "us") return t / 1e3
    if (unit == "s") return t * 1e3
    return t
  }
  function value(line) {  # the text after the colon, without quotes and the trailing comma
    sub(/^[^:]*:[ \t]*/, "", line); sub(/,[ \t]*$/, "", line); gsub(/"/, "", line)
    return line
  }
  /"benchmarks"[ \t]*:/ { in_benchmarks = 1 }
  !in_benchmarks { next }
  /^[ \t]*"name"[ \t]*:/ { name = value($0); run_type = "iteration"; real = ""; skipped = 0 }
  /^[ \t]*"run_type"[ \t]*:/ { run_type = value($0) }
  /^[ \t]*"error_occurred"[ \t]*:/ { if (value($0) == "true") skipped = 1 }
  /^[ \t]*"real_time"[ \t]*:/ { real = value($0) }
  /^[ \t]*"time_unit"[ \t]*:/ {
    if (run_type != "iteration" || skipped || real == "") next
    n = split(name, part, "/")  # evaluate/<problem>/<implementation>
    if (n < 3) next
    key = part[2] SUBSEP part[3]
    ms = to_ms(real + 0, value($0))
    if (!(key in best) || ms < best[key]) best[key] = ms
    if (!(part[2] in seen)) { seen[part[2]] = 1; order[++problems] = part[2] }
  }
  END {
    if (problems == 0) { print "summarize.sh: no benchmark entries found" > "/dev/stderr"; exit 1 }
    printf "%-36s %14s %14s %10s\n", "problem", "certified_ms", "plain_ms", "ratio"
    for (i = 1; i <= problems; i++) {
      p = order[i]
      c = (p SUBSEP "certified") in best ? best[p SUBSEP "certified"] : -1
      d = (p SUBSEP "plain_double") in best ? best[p SUBSEP "plain_double"] : -1
      if (c < 0 || d <= 0) { printf "%-36s %14s %14s %10s\n", p, (c < 0 ? "-" : c), (d <= 0 ? "-" : d), "-"; continue }
      printf "%-36s %14.3f %14.3f %10.2f\n", p, c, d, c / d
    }
  }
' "${1:--}"
