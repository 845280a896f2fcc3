#!/usr/bin/env bash
# IaC scanning speed: `iamgroups scan-iac` over a synthetic tree of 10,000
# .tf files and 1,000 CloudFormation templates, against `grep -rl` over the
# same tree (the I/O floor), alternately in one run; prints medians, files
# per second and the ratio.
#
#   bench/iac.sh            # RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench/out}
runs=${RUNS:-5}
mkdir -p "$out"
tree="$out/iac-tree"
[ -d "$tree" ] || go run ./bench/iacgen -out "$tree"
files=$(find "$tree" -type f | wc -l)
go build -o "$out/iamgroups" ./cmd/iamgroups

ms() { local s e; s=$(date +%s%N); "$@" > /dev/null || true; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=() theirs=()
for _ in $(seq "$runs"); do
  ours+=("$(ms "$out/iamgroups" scan-iac "$tree" --format json --fail-on none)")
  theirs+=("$(ms grep -rl aws_iam_ "$tree")")
done
o=$(printf '%s\n' "${ours[@]}" | median)
g=$(printf '%s\n' "${theirs[@]}" | median)
awk -v f="$files" -v o="$o" -v g="$g" 'BEGIN {
  printf "%d files: iamgroups scan-iac %d ms (%.0f files/s), grep -rl %d ms (%.0f files/s): %.1fx the I/O floor\n",
    f, o, f / (o > 0 ? o : 1) * 1000, g, f / (g > 0 ? g : 1) * 1000, o / (g > 0 ? g : 1)
}'
echo "($(nproc) CPUs; medians of $runs alternating runs)"
