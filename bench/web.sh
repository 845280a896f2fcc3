#!/usr/bin/env bash
# Dashboard and API speed: the web package's Go benchmarks against a SQLite
# history of 100 runs of 5,000 users (storetest.Seed), served in process
# (no network). The history is seeded once into bench/out/web-history.db and
# reused by later runs (delete the file to seed again). Prints time per
# request, the response size and what each request allocates; the target is
# under 100 ms per page.
#
#   bench/web.sh              # 50 requests per benchmark
#   COUNT=200 bench/web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench/out}
count=${COUNT:-50}
mkdir -p "$out"
db="$(cd "$out" && pwd)/web-history.db"
[ -s "$db" ] && seeded="reused" || seeded="seeded now"

go test ./internal/web -run '^$' -bench . -benchtime "${count}x" -benchmem -benchdb "$db" > "$out/web-bench.txt"

printf '%-26s %10s %12s %12s %12s\n' request "ms/op" "response KB" "alloc KB/op" "allocs/op"
awk '
  /^Benchmark/ {
    name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
    ns = $3; mbs = $5; bytes = $7; allocs = $9
    printf "%-26s %10.2f %12.1f %12.0f %12d\n", name, ns / 1e6, mbs * ns / 1e3 / 1024, bytes / 1024, allocs
  }' "$out/web-bench.txt"
size=$(stat -c %s "$db")
echo "(history: 100 runs x 5,000 users, $((size / 1024 / 1024)) MB on disk, $seeded; $(nproc) CPUs; $count requests per row)"
