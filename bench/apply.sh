#!/usr/bin/env bash
# Apply and rollback of the plan for a synthetic account (1,000 users by
# default) seeded into moto_server: the write calls made against the plan's
# actions, the reads, and wall time, with no rate limit and no settle wait.
#
#   bench/apply.sh              # USERS=1000
#   USERS=5000 bench/apply.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bench/out}
mkdir -p "$out"
command -v moto_server >/dev/null || { echo "bench/apply.sh: moto_server is not installed" >&2; exit 2; }
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" > "$out/moto.log" 2>&1 &
moto=$!
work=$(mktemp -d)
trap 'kill $moto 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done

go build -o "$out/iamgroups" ./cmd/iamgroups
go run ./bench/apply -moto "http://127.0.0.1:$port" -users "${USERS:-1000}" -iamgroups "$out/iamgroups" -work "$work"
echo "($(nproc) CPUs)"
