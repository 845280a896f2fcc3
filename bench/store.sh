#!/usr/bin/env bash
# History store speed and size: the store package's Go benchmarks on SQLite
# and, when IAMGROUPS_TEST_POSTGRES names a database (.ci/run sets one up),
# on PostgreSQL. Each backend is seeded with 100 runs of 5,000 users
# (storetest.Seed's estate), then the dashboard's queries are timed, the
# history's size per run is measured, and more 5,000-user runs are
# recorded. Targets: a run recorded in under 1 s, each query well under
# 100 ms.
#
#   bench/store.sh            # COUNT=20 iterations per benchmark
#   COUNT=50 bench/store.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench/out}
count=${COUNT:-20}
mkdir -p "$out"
if [ -z "${IAMGROUPS_TEST_POSTGRES:-}" ]; then
  echo "(IAMGROUPS_TEST_POSTGRES is not set: SQLite only)" >&2
fi

# CI would turn a missing PostgreSQL into a failure; here it is a skip.
env -u CI go test ./internal/store -run '^$' -bench BenchmarkStore -benchtime "${count}x" -timeout 30m > "$out/store-bench.txt"

awk '
  /^BenchmarkStore\// {
    split($1, part, "/"); backend = part[2]; what = part[3]; sub(/-[0-9]+$/, "", what)
    if (!(backend in seen)) { seen[backend] = 1; order[++n] = backend }
    ms[backend, what] = $3 / 1e6
    for (i = 4; i < NF; i++) {
      if ($(i + 1) == "rows") rows[backend, what] = $i
      if ($(i + 1) == "bytes/run") perrun[backend, what] = $i
      if ($(i + 1) == "MB") mb[backend, what] = $i
    }
    if (!(what in wseen)) { wseen[what] = 1; whats[++m] = what }
  }
  END {
    printf "%-18s", "operation"
    for (b = 1; b <= n; b++) printf " %14s", order[b] " ms/op"
    printf " %8s\n", "rows"
    for (w = 1; w <= m; w++) {
      what = whats[w]
      if (what == "Size") continue
      label = (what == "FinishRun") ? "FinishRun 5,000" : what
      printf "%-18s", label
      for (b = 1; b <= n; b++) printf " %14.2f", ms[order[b], what]
      if ((order[1], what) in rows) printf " %8d\n", rows[order[1], what]; else printf "\n"
    }
    for (b = 1; b <= n; b++)
      printf "%s: %.1f MB for 100 runs of 5,000 users, %.0f KB per run\n", order[b], mb[order[b], "Size"], perrun[order[b], "Size"] / 1024
  }' "$out/store-bench.txt"
echo "($(nproc) CPUs; $count iterations per row; history of 100 runs x 5,000 users per backend)"
