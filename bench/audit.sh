#!/usr/bin/env bash
# Offline audit speed: `iamgroups audit --snapshot S --format json` against
# a jq one-liner that prints the same failing users, on the same synthetic
# snapshots (5,000 users, about 2 MB; 100,000 users, about 39 MB), run
# alternately in one go so that both see the same machine. Both write to
# /dev/null for the ratio (our full report is 25 times the size of jq's list
# of names); the last column is our time writing the report to a file.
# Prints median wall times, the ratio, our throughput and peak memory.
#
#   bench/audit.sh            # RUNS=7 by default
#   RUNS=15 bench/audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench/out}
runs=${RUNS:-7}
mkdir -p "$out"
command -v jq >/dev/null || { echo "bench/audit.sh: jq is not installed (apt-get install jq)" >&2; exit 2; }

go build -o "$out/iamgroups" ./cmd/iamgroups
JQ='.UserDetailList[] | select((.AttachedManagedPolicies // [] | length) + (.UserPolicyList // [] | length) > 0) | .UserName'

ms() { # ms OUT CMD...: run CMD with stdout to OUT, print its wall time in ms
  local s e o=$1
  shift
  s=$(date +%s%N)
  "$@" > "$o"
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak_kb() { # peak resident memory of a command, when GNU time is there
  if [ -x /usr/bin/time ]; then /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; else echo "?"; fi
}

printf '%-8s %9s %9s %9s %8s %10s %8s %10s %11s\n' users "file MB" "ours ms" "jq ms" "jq/ours" "ours MB/s" "peak MB" "peak/file" "ours>file ms"
for users in 5000 100000; do
  snap="$out/synth-$users.json"
  [ -s "$snap" ] || go run ./bench/synth -users "$users" -seed 1 -compact -out "$snap"
  bytes=$(stat -c %s "$snap")

  # Same answer first: the FAIL users of our report are jq's users.
  "$out/iamgroups" audit --snapshot "$snap" --format json --fail-on none > "$out/ours-$users.json"
  jq -r "$JQ" "$snap" | sort > "$out/jq-$users.txt"
  jq -r '.results[] | select(.status == "FAIL") | .user_name' "$out/ours-$users.json" | sort > "$out/ours-$users.txt"
  if ! cmp -s "$out/jq-$users.txt" "$out/ours-$users.txt"; then
    echo "bench/audit.sh: iamgroups and jq disagree on the failing users of $snap" >&2
    exit 1
  fi

  ours=() theirs=() tofile=()
  for i in $(seq "$runs"); do
    ours+=("$(ms /dev/null "$out/iamgroups" audit --snapshot "$snap" --format json --fail-on none)")
    theirs+=("$(ms /dev/null jq -r "$JQ" "$snap")")
    rm -f "$out/report-$i.json"
    tofile+=("$(ms "$out/report-$i.json" "$out/iamgroups" audit --snapshot "$snap" --format json --fail-on none)")
  done
  rm -f "$out"/report-*.json
  o=$(printf '%s\n' "${ours[@]}" | median)
  j=$(printf '%s\n' "${theirs[@]}" | median)
  f=$(printf '%s\n' "${tofile[@]}" | median)
  kb=$(peak_kb "$out/iamgroups" audit --snapshot "$snap" --format json --fail-on none)
  awk -v u="$users" -v b="$bytes" -v o="$o" -v j="$j" -v f="$f" -v kb="$kb" 'BEGIN {
    peak = (kb == "?") ? "?" : sprintf("%.0f", kb / 1024)
    ratio = (kb == "?") ? "?" : sprintf("%.2f", kb * 1024 / b)
    printf "%-8d %9.1f %9d %9d %7.1fx %10.0f %8s %10s %11d\n", u, b / 1e6, o, j, j / (o > 0 ? o : 1), b / 1e6 / (o > 0 ? o : 1) * 1000, peak, ratio, f
  }'
done
echo "($(nproc) CPUs; medians of $runs alternating runs; iamgroups writes its full JSON report, jq prints user names)"
