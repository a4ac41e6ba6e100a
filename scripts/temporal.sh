#!/usr/bin/env bash
# Runs a local Temporal dev server with our namespace and search attributes (DESIGN.md §4).
#   scripts/temporal.sh ensure [--headless]  start one unless TEMPORAL_ADDRESS already answers
#   scripts/temporal.sh stop                 stop the one this script started
# Settings: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default ecommerce),
# TEMPORAL_UI_PORT (default 8233), TEMPORAL_DB_FILE (empty: in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL="$PWD/.tools/bin/temporal"
ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-ecommerce}
UI_PORT=${TEMPORAL_UI_PORT:-8233}
STATE="$PWD/.tools/run"
mkdir -p "$STATE"
SEARCH_ATTRIBUTES=(OrderNumber=Keyword BasketId=Keyword Username=Keyword CheckoutStatus=Keyword
                   PaymentProcessor=Keyword OrderTotal=Double RefundStatus=Keyword)

healthy() { "$TEMPORAL" operator cluster health --address "$ADDRESS" >/dev/null 2>&1; }

ensure_search_attributes() {
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    "$TEMPORAL" operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
      --name "${sa%%=*}" --type "${sa#*=}" >/dev/null 2>&1 || true
  done
  "$TEMPORAL" operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1 ||
    "$TEMPORAL" operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null
}

case "${1:-}" in
ensure)
  [[ -x "$TEMPORAL" ]] || scripts/tools.sh
  if healthy; then
    echo "temporal: using the server at $ADDRESS" >&2
    ensure_search_attributes
    exit 0
  fi
  args=(server start-dev --ip "${ADDRESS%:*}" --port "${ADDRESS##*:}" --namespace "$NAMESPACE"
        --dynamic-config-value frontend.enableServerVersionCheck=false
        --dynamic-config-value matching.numTaskqueueReadPartitions=1
        --dynamic-config-value matching.numTaskqueueWritePartitions=1
        --dynamic-config-value system.enableActivityEagerExecution=true
        --log-level warn)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  if [[ "${2:-}" == "--headless" ]]; then args+=(--headless); else args+=(--ui-port "$UI_PORT"); fi
  if [[ -n "${TEMPORAL_DB_FILE:-}" ]]; then args+=(--db-filename "$TEMPORAL_DB_FILE"); fi
  TEMPORAL_VERSION_CHECK_DISABLED=1 nohup "$TEMPORAL" "${args[@]}" >"$STATE/temporal.log" 2>&1 &
  echo $! >"$STATE/temporal.pid"
  for _ in $(seq 1 120); do
    if healthy; then
      ensure_search_attributes
      echo "temporal: dev server on $ADDRESS (namespace $NAMESPACE, log .tools/run/temporal.log)" >&2
      exit 0
    fi
    sleep 0.5
  done
  echo "temporal: the dev server did not become healthy; see .tools/run/temporal.log" >&2
  tail -20 "$STATE/temporal.log" >&2 || true
  exit 1
  ;;
stop)
  if [[ -f "$STATE/temporal.pid" ]]; then
    kill "$(cat "$STATE/temporal.pid")" 2>/dev/null || true
    rm -f "$STATE/temporal.pid"
  fi
  ;;
*)
  echo "usage: $0 ensure [--headless] | stop" >&2
  exit 2
  ;;
esac
