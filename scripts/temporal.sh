#!/usr/bin/env bash
# Runs local Temporal dev servers with our namespace and search attributes (DESIGN.md §4).
#   scripts/temporal.sh ensure [--env]      a server with the Web UI for TEMPORAL_ADDRESS (make run,
#                                           make temporal): one that answers there with its UI, or
#                                           one this script starts
#   scripts/temporal.sh ensure --headless   a server without UI at TEMPORAL_ADDRESS (make test, on
#                                           its own address 127.0.0.1:7243): whatever answers there
#   scripts/temporal.sh stop                stop the servers this script started
# With --env, ensure prints the address and UI port to use (TEMPORAL_ADDRESS=... TEMPORAL_UI_PORT=...)
# on stdout, for `env`: when TEMPORAL_ADDRESS answers without a UI (a headless server, such as one an
# older `make test` left there), the server with the UI is on TEMPORAL_ADDRESS's port + 20 instead.
# Settings: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default ecommerce),
# TEMPORAL_UI_PORT (default TEMPORAL_ADDRESS's port + 1000: 8233), TEMPORAL_DB_FILE (empty: in memory).
# Each server started here logs to .tools/run/temporal-<port>.log (pid in temporal-<port>.pid).
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL="$PWD/.tools/bin/temporal"
ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-ecommerce}
HOST=${ADDRESS%:*}
PORT=${ADDRESS##*:}
UI_PORT=${TEMPORAL_UI_PORT:-$((PORT + 1000))}
# Where make run's server with the UI goes when TEMPORAL_ADDRESS is taken by a headless one.
FALLBACK_ADDRESS="$HOST:$((PORT + 20))"
FALLBACK_UI_PORT=$((UI_PORT + 20))
STATE="$PWD/.tools/run"
mkdir -p "$STATE"
SEARCH_ATTRIBUTES=(OrderNumber=Keyword BasketId=Keyword Username=Keyword CheckoutStatus=Keyword
                   PaymentProcessor=Keyword OrderTotal=Double RefundStatus=Keyword)

say() { echo "temporal: $*" >&2; }

healthy() { "$TEMPORAL" operator cluster health --address "$1" >/dev/null 2>&1; }

# ui_answers HOST PORT: a Temporal Web UI answers there (its settings API).
ui_answers() {
  local url="http://$1:$2/api/v1/settings"
  if command -v curl >/dev/null; then
    curl -fsS -m 3 "$url" 2>/dev/null | grep -q '"Auth"'
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

ensure_search_attributes() { # address
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    "$TEMPORAL" operator search-attribute create --address "$1" --namespace "$NAMESPACE" \
      --name "${sa%%=*}" --type "${sa#*=}" >/dev/null 2>&1 || true
  done
  "$TEMPORAL" operator namespace describe --address "$1" --namespace "$NAMESPACE" >/dev/null 2>&1 ||
    "$TEMPORAL" operator namespace create --address "$1" --namespace "$NAMESPACE" >/dev/null
}

# start ADDRESS UI_PORT|headless: start a dev server there and wait until it answers.
start() {
  local address=$1 ui=$2 port=${1##*:}
  local log="$STATE/temporal-$port.log"
  local args=(server start-dev --ip "${address%:*}" --port "$port" --namespace "$NAMESPACE"
        --dynamic-config-value frontend.enableServerVersionCheck=false
        --dynamic-config-value matching.numTaskqueueReadPartitions=1
        --dynamic-config-value matching.numTaskqueueWritePartitions=1
        --dynamic-config-value system.enableActivityEagerExecution=true
        --dynamic-config-value system.enableEagerWorkflowStart=true
        --log-level warn)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  if [[ "$ui" == headless ]]; then args+=(--headless); else args+=(--ui-port "$ui"); fi
  if [[ -n "${TEMPORAL_DB_FILE:-}" ]]; then args+=(--db-filename "$TEMPORAL_DB_FILE"); fi
  TEMPORAL_VERSION_CHECK_DISABLED=1 nohup "$TEMPORAL" "${args[@]}" >"$log" 2>&1 &
  echo $! >"$STATE/temporal-$port.pid"
  for _ in $(seq 1 120); do
    if healthy "$address" && { [[ "$ui" == headless ]] || ui_answers "${address%:*}" "$ui"; }; then
      ensure_search_attributes "$address"
      if [[ "$ui" == headless ]]; then
        say "dev server on $address without UI (namespace $NAMESPACE, log ${log#"$PWD/"})"
      else
        say "dev server on $address, Web UI http://${address%:*}:$ui (namespace $NAMESPACE, log ${log#"$PWD/"})"
      fi
      return 0
    fi
    if ! kill -0 "$(cat "$STATE/temporal-$port.pid")" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  say "the dev server on $address did not become healthy; see ${log#"$PWD/"}"
  tail -20 "$log" >&2 || true
  return 1
}

# use ADDRESS UI_PORT: the server with the UI this run uses.
use() {
  if [[ "$print_env" == 1 ]]; then
    echo "TEMPORAL_ADDRESS=$1 TEMPORAL_UI_PORT=$2"
  fi
}

ensure_headless() {
  if healthy "$ADDRESS"; then
    say "using the server at $ADDRESS"
    ensure_search_attributes "$ADDRESS"
    return 0
  fi
  start "$ADDRESS" headless
}

ensure_ui() {
  if healthy "$ADDRESS"; then
    if ui_answers "$HOST" "$UI_PORT"; then
      say "using the server at $ADDRESS, Web UI http://$HOST:$UI_PORT"
      ensure_search_attributes "$ADDRESS"
      use "$ADDRESS" "$UI_PORT"
      return 0
    fi
    say "WARNING: the Temporal server at $ADDRESS answers, but no Web UI answers at http://$HOST:$UI_PORT."
    say "  It is a headless server (an older 'make test' left one there, or another tool started it)."
    say "  Using a dev server with the Web UI on $FALLBACK_ADDRESS (UI http://$HOST:$FALLBACK_UI_PORT) instead."
    say "  To get back to $ADDRESS: stop that server ('make temporal-stop' stops the ones this repository"
    say "  started), or set TEMPORAL_UI_PORT if its UI is on another port."
    if healthy "$FALLBACK_ADDRESS"; then
      if ui_answers "$HOST" "$FALLBACK_UI_PORT"; then
        ensure_search_attributes "$FALLBACK_ADDRESS"
        use "$FALLBACK_ADDRESS" "$FALLBACK_UI_PORT"
        return 0
      fi
      say "ERROR: $FALLBACK_ADDRESS is headless too: stop the servers ('make temporal-stop') and retry."
      return 1
    fi
    start "$FALLBACK_ADDRESS" "$FALLBACK_UI_PORT"
    use "$FALLBACK_ADDRESS" "$FALLBACK_UI_PORT"
    return 0
  fi
  # A server with the UI that an earlier run started on the fallback address (while TEMPORAL_ADDRESS
  # was taken) keeps the state (TEMPORAL_DB_FILE) of the runs since: keep using it.
  if healthy "$FALLBACK_ADDRESS" && ui_answers "$HOST" "$FALLBACK_UI_PORT" && [[ -f "$STATE/temporal-${FALLBACK_ADDRESS##*:}.pid" ]] &&
     kill -0 "$(cat "$STATE/temporal-${FALLBACK_ADDRESS##*:}.pid")" 2>/dev/null; then
    say "using the server with the Web UI that an earlier run started at $FALLBACK_ADDRESS (UI http://$HOST:$FALLBACK_UI_PORT);"
    say "  'make temporal-stop' stops it, and the next run starts one on $ADDRESS"
    ensure_search_attributes "$FALLBACK_ADDRESS"
    use "$FALLBACK_ADDRESS" "$FALLBACK_UI_PORT"
    return 0
  fi
  start "$ADDRESS" "$UI_PORT"
  use "$ADDRESS" "$UI_PORT"
}

# stop_pidfile FILE: stop the dev server whose pid FILE holds, if it still is one.
stop_pidfile() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  local args
  args=$(ps -o args= -p "$pid" 2>/dev/null) || args=""
  if [[ "$args" == *"server start-dev"* ]]; then
    kill "$pid" 2>/dev/null || true
    say "stopped the dev server on $(grep -o -- '--port [0-9]*' <<<"$args" | cut -d' ' -f2) (pid $pid)"
  fi
  rm -f "$1"
}

case "${1:-}" in
ensure)
  [[ -x "$TEMPORAL" ]] || scripts/tools.sh
  mode=ui print_env=0
  for arg in "${@:2}"; do
    case "$arg" in
    --headless) mode=headless ;;
    --env) print_env=1 ;;
    *) echo "usage: $0 ensure [--headless | --env]" >&2; exit 2 ;;
    esac
  done
  if [[ "$mode" == headless ]]; then ensure_headless; else ensure_ui; fi
  ;;
stop)
  shopt -s nullglob
  for f in "$STATE"/temporal-*.pid "$STATE"/temporal.pid; do stop_pidfile "$f"; done
  ;;
*)
  echo "usage: $0 ensure [--headless | --env] | stop" >&2
  exit 2
  ;;
esac
