#!/usr/bin/env bash
# Browser tests (make test-browser): Playwright's library (browser/, npm package playwright-core)
# drives Debian's Chromium headless through the learner's pages and the Temporal Web UI, and writes
# a screenshot of each step to docs/screenshots/.
#
# It starts everything it needs on its own ports, so it never collides with make test (Temporal on
# 7243), make run (7233/8233, the service on 8130, simulators on 18000-18002) or the benchmark
# scripts (7263, 8140-8141, 8230, 18100-18102):
#   - a Temporal dev server with its Web UI (in memory, so fresh every run),
#   - a fresh PostgreSQL database,
#   - `ecommerce dev` (migrations, the demo catalog, the API, the worker and the LMS, CyberSource and
#     PayPal simulators), run from a temporary directory that keeps the LMS simulator's state,
# waits until they answer, runs the node tests (browser/tests/) and always stops what it started.
#
# Settings (environment; defaults in brackets):
#   BROWSER_TEMPORAL_ADDRESS [127.0.0.1:7293]  BROWSER_TEMPORAL_UI_PORT [8293]
#   BROWSER_HTTP_PORT [8150]  BROWSER_LMS_PORT [18200]  BROWSER_CYBERSOURCE_PORT [18201]
#   BROWSER_PAYPAL_PORT [18202]
#   BROWSER_DATABASE_URL [postgres://postgres@127.0.0.1:5432/browser_test?sslmode=disable]: dropped
#     and created afresh by every run
#   CHROMIUM [/usr/bin/chromium]: installed with apt-get when missing (as root)
#   SCREENSHOT_DIR [.tools/run/screenshots]: `make screenshots` sets docs/screenshots, the README's
#   BROWSER_TESTS [browser/tests/*.test.mjs]: the test files to run
#   KEEP_LOGS=1 keeps the temporary directory with the logs of the dev server and Temporal
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
ROOT=$PWD

TEMPORAL_ADDR=${BROWSER_TEMPORAL_ADDRESS:-127.0.0.1:7293}
TEMPORAL_UI=${BROWSER_TEMPORAL_UI_PORT:-8293}
HTTP_PORT=${BROWSER_HTTP_PORT:-8150}
LMS_PORT=${BROWSER_LMS_PORT:-18200}
CS_PORT=${BROWSER_CYBERSOURCE_PORT:-18201}
PAYPAL_PORT=${BROWSER_PAYPAL_PORT:-18202}
DB_URL=${BROWSER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/browser_test?sslmode=disable}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SCREENSHOT_DIR=${SCREENSHOT_DIR:-$ROOT/.tools/run/screenshots}
HOST=127.0.0.1
TEMPORAL_HOST=${TEMPORAL_ADDR%:*}
TEMPORAL_PORT=${TEMPORAL_ADDR##*:}

say() { echo "test-browser: $*" >&2; }
started=$(date +%s)

# --- what the tests need on this machine: Chromium (Debian's) and playwright-core (npm) ---
if [[ ! -x "$CHROMIUM" ]]; then
  if [[ "$CHROMIUM" != /usr/bin/chromium ]]; then
    say "CHROMIUM=$CHROMIUM is not an executable"; exit 1
  fi
  if [[ $(id -u) != 0 ]]; then
    say "Chromium is missing: run 'sudo apt-get install -y chromium' (Debian's package), then retry"; exit 1
  fi
  say "installing Debian's chromium (apt-get, once)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' browser/package.json | head -1)
have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' browser/node_modules/playwright-core/package.json 2>/dev/null | head -1 || true)
if [[ "$have" != "$want" ]]; then
  say "installing playwright-core $want into browser/node_modules (npm ci; it downloads no browser)"
  (cd browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- ports: all must be free, so that what answers is what this run starts ---
port_in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
for hp in "$TEMPORAL_HOST:$TEMPORAL_PORT" "$TEMPORAL_HOST:$TEMPORAL_UI" "$HOST:$HTTP_PORT" "$HOST:$LMS_PORT" \
          "$HOST:$CS_PORT" "$HOST:$PAYPAL_PORT"; do
  if port_in_use "${hp%:*}" "${hp##*:}"; then
    say "$hp is in use (a test-browser run still going, or another program): stop it or choose other ports"
    say "  (BROWSER_TEMPORAL_ADDRESS, BROWSER_TEMPORAL_UI_PORT, BROWSER_HTTP_PORT, BROWSER_LMS_PORT, ...)"
    exit 1
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-browser.XXXXXX")
DEV_PID=
TEMPORAL_PIDFILE=$ROOT/.tools/run/temporal-$TEMPORAL_PORT.pid
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$DEV_PID" ]] && kill -0 "$DEV_PID" 2>/dev/null; then
    kill "$DEV_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$DEV_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$DEV_PID" 2>/dev/null || true
  fi
  # The Temporal dev server this run started (scripts/temporal.sh wrote its pid), and only it.
  local pid
  if pid=$(cat "$TEMPORAL_PIDFILE" 2>/dev/null) && [[ "$(ps -o args= -p "$pid" 2>/dev/null)" == *"server start-dev"*"--port $TEMPORAL_PORT"* ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$TEMPORAL_PIDFILE"
  fi
  if [[ $status != 0 && -f "$WORK/dev.log" ]]; then
    say "the last lines of the service's log ($WORK/dev.log):"
    tail -30 "$WORK/dev.log" >&2 || true
  fi
  if [[ "${KEEP_LOGS:-}" == 1 || $status != 0 ]]; then
    cp "$ROOT/.tools/run/temporal-$TEMPORAL_PORT.log" "$WORK/" 2>/dev/null || true
    say "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  say "stopped everything it started ($(( $(date +%s) - started )) s in all)"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Temporal with the Web UI (fresh: in memory), the database, the service ---
say "building the service"
go build -o "$WORK/ecommerce" ./cmd/ecommerce
temporal=$(TEMPORAL_DB_FILE= TEMPORAL_ADDRESS=$TEMPORAL_ADDR TEMPORAL_UI_PORT=$TEMPORAL_UI scripts/temporal.sh ensure --env)
if [[ "$temporal" != "TEMPORAL_ADDRESS=$TEMPORAL_ADDR TEMPORAL_UI_PORT=$TEMPORAL_UI" ]]; then
  say "scripts/temporal.sh chose another server ($temporal): stop it ('make temporal-stop') and retry"; exit 1
fi

db_name=${DB_URL##*/}; db_name=${db_name%%\?*}
admin_url=${DB_URL%/*}/postgres${DB_URL#*"$db_name"}
psql -q "$admin_url" -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null

export DATABASE_URL=$DB_URL
export HTTP_ADDR=$HOST:$HTTP_PORT PUBLIC_URL=http://$HOST:$HTTP_PORT
export TEMPORAL_ADDRESS=$TEMPORAL_ADDR TEMPORAL_UI_PORT=$TEMPORAL_UI TEMPORAL_NAMESPACE=ecommerce
export LMS_URL=http://$HOST:$LMS_PORT
export CYBERSOURCE_PAYMENT_PAGE_URL=http://$HOST:$CS_PORT/pay CYBERSOURCE_REST_URL=http://$HOST:$CS_PORT
export PAYPAL_API_URL=http://$HOST:$PAYPAL_PORT
export METRICS_ADDR= PAYMENT_PAGE_URL= CORS_ORIGINS= SMTP_ADDR=
# Every click is a request: the tests are one learner each, but the default limit of 75 a minute
# is near enough to make a slow page a flaky one.
export USER_RATE_LIMIT=0
say "starting ecommerce dev on $PUBLIC_URL (simulators on :$LMS_PORT :$CS_PORT :$PAYPAL_PORT, Temporal $TEMPORAL_ADDR, UI :$TEMPORAL_UI)"
(cd "$WORK" && exec ./ecommerce dev >"$WORK/dev.log" 2>&1) &
DEV_PID=$!

ready() { curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null; }
answers() { curl -sS -m 2 -o /dev/null "$1" 2>/dev/null; }
for i in $(seq 1 240); do
  if ready "$PUBLIC_URL/ready/" && ready "$LMS_URL/login" && answers "http://$HOST:$CS_PORT/" &&
     answers "$PAYPAL_API_URL/" && ready "http://$TEMPORAL_HOST:$TEMPORAL_UI/api/v1/settings"; then
    break
  fi
  if ! kill -0 "$DEV_PID" 2>/dev/null; then
    say "ecommerce dev exited"; exit 1
  fi
  if [[ $i == 240 ]]; then
    say "the service was not ready after 120 s"; exit 1
  fi
  sleep 0.5
done
say "ready after $(( $(date +%s) - started )) s"

# --- the tests ---
STAFF_TOKEN=$("$WORK/ecommerce" token --username browser-staff --admin 2>/dev/null)
mkdir -p "$SCREENSHOT_DIR"
shopt -s nullglob
# shellcheck disable=SC2206 # the test files are a glob on purpose
tests=(${BROWSER_TESTS:-browser/tests/*.test.mjs})
[[ ${#tests[@]} -gt 0 ]] || { say "no test files"; exit 1; }
BASE_URL=$PUBLIC_URL LMS_URL=$LMS_URL CYBERSOURCE_URL=http://$HOST:$CS_PORT PAYPAL_URL=$PAYPAL_API_URL \
TEMPORAL_UI_URL=http://$TEMPORAL_HOST:$TEMPORAL_UI STAFF_TOKEN=$STAFF_TOKEN CHROMIUM=$CHROMIUM \
SCREENSHOT_DIR=$SCREENSHOT_DIR \
  node --test --test-concurrency=1 "${tests[@]}"
