#!/usr/bin/env bash
# Live collection: GAAD against the per-user method, and iamgroups against
# `aws iam get-account-authorization-details | jq`, on moto_server accounts
# of 1,000 and 5,000 users, through a proxy adding 50 ms to every call.
# Takes several minutes (the per-user method makes tens of thousands of
# calls).
#
#   bench/live.sh                 # USERS=1000,5000 LATENCY=50ms
#   USERS=1000 bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
for tool in moto_server aws jq; do
  command -v "$tool" >/dev/null || { echo "bench/live.sh: $tool is not installed" >&2; exit 2; }
done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" > "$out/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done

go build -o "$out/iamgroups" ./cmd/iamgroups
go run ./bench/live -moto "http://127.0.0.1:$port" -users "${USERS:-1000,5000}" -latency "${LATENCY:-50ms}" -iamgroups "$out/iamgroups"
echo "($(nproc) CPUs)"
