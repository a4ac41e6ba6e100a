#!/usr/bin/env bash
# Checkout under load against the bare workflow (docs/benchmarks.md, "Checkout under load"). It
# starts a stack of its own, away from make run's and make test's: a headless Temporal dev server
# on 127.0.0.1:7263 (in memory, one task-queue partition, eager activities, as scripts/temporal.sh
# starts every server), a fresh database ecommerce_load, and `ecommerce dev` (API, worker and the
# simulators) on 8230 and 18100-18102; then runs `ecommerce load --bare` for each entry of RUNS
# (users:count) and prints each summary; everything it started is stopped on exit.
#   scripts/bench-checkout.sh                 RUNS="20:200 1:100" by default
#   RUNS="20:200 20:200" JSON=1 scripts/bench-checkout.sh
#   KEEP=1 leaves the stack running afterwards, to read the workflows' histories.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3  # the approved toolchain (go.mod), fetched by the machine's Go
RUNS=${RUNS:-20:200 1:100}
PG="postgres://postgres@127.0.0.1:5432"
DIR=.tools/run/bench-checkout
mkdir -p "$DIR"
scripts/tools.sh >/dev/null
go build -o "$DIR/ecommerce" ./cmd/ecommerce

export TEMPORAL_ADDRESS=127.0.0.1:7263 TEMPORAL_NAMESPACE=load TEMPORAL_TASK_QUEUE=load
export HTTP_ADDR=127.0.0.1:8230 PUBLIC_URL=http://127.0.0.1:8230 LMS_URL=http://127.0.0.1:18100 \
  CYBERSOURCE_PAYMENT_PAGE_URL=http://127.0.0.1:18101/pay CYBERSOURCE_REST_URL=http://127.0.0.1:18101 \
  PAYPAL_API_URL=http://127.0.0.1:18102 DATABASE_URL="$PG/ecommerce_load?sslmode=disable" \
  METRICS_ADDR=127.0.0.1:0 CALLBACK_RATE_LIMIT=-1 USER_RATE_LIMIT=0 LOG_LEVEL=warn
# The learners poll their order every 20 ms: USER_RATE_LIMIT=0 lifts the 75-a-minute limit.

# Only this script's own dev server is stopped (make test's and make run's are left alone).
stop_temporal() { kill "$(cat .tools/run/temporal-7263.pid 2>/dev/null)" 2>/dev/null || true; sleep 1; }
stop() {
  if [[ -n ${KEEP:-} ]]; then
    echo "KEEP: the stack runs on (stop: kill -- -${dev:-} and kill \$(cat .tools/run/temporal-7263.pid))"
    return
  fi
  if [[ -n ${dev:-} ]]; then kill -- "-$dev" 2>/dev/null || true; fi
  stop_temporal
}
trap stop EXIT
stop_temporal # a fresh, empty server for every measurement
scripts/temporal.sh ensure --headless
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS ecommerce_load" -c "CREATE DATABASE ecommerce_load"
# From its own directory: the LMS simulator's enrollments (.tools/run/lms-state.json below the
# working directory) start empty and stay apart from make run's.
rm -f "$DIR/.tools/run/lms-state.json"
(cd "$DIR" && exec setsid ./ecommerce dev >dev.log 2>&1) &
dev=$!
for _ in $(seq 1 120); do
  curl -fsS -m 2 "$PUBLIC_URL/health/" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS -m 2 "$PUBLIC_URL/health/" >/dev/null || { tail -20 "$DIR/dev.log"; exit 1; }
# A warm-up, not measured (WARMUP=0 skips it): a fresh server's first purchases were once seen
# waiting a minute.
if [[ ${WARMUP:-1} != 0 ]]; then
  "$DIR/ecommerce" load --users 2 --count 10 --bare >"$DIR/warmup.txt" 2>&1 || { cat "$DIR/warmup.txt"; exit 1; }
fi
for run in $RUNS; do
  echo "== $(date -u +%H:%M:%S) users ${run%%:*}, ${run##*:} purchases, then the bare workflow (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$DIR/ecommerce" load --users "${run%%:*}" --count "${run##*:}" --bare ${JSON:+--json}
done
