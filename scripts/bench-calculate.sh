#!/usr/bin/env bash
# Load test of GET /api/v2/baskets/calculate/ (docs/benchmarks.md). For each number of site
# offers it fills a fresh database (2000 courses, the offers, 100000 vouchers), starts
# `ecommerce serve` on it and measures two request mixes: random verified SKUs without a code,
# and one SKU with a coupon code that applies to it (the code's usage is read from PostgreSQL):
#   - vegeta at a constant RATE (default 5000 req/s): latency percentiles at that load;
#   - wrk with 8 connections: the saturation throughput;
#   - the same wrk run against scripts/benchceiling (Gin, the JWT verified, a fixed answer, no
#     I/O): the ceiling, and calculate's throughput as a ratio of it.
#   scripts/bench-calculate.sh [offers ...]      default: 10 1000 10000
# Needs wrk (apt-get install wrk), the local PostgreSQL; installs vegeta into .tools/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3  # the approved toolchain (go.mod), fetched by the machine's Go
OFFERS=("${@:-10 1000 10000}")
read -r -a OFFERS <<<"${OFFERS[*]}"
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-4 8 16}
PG="postgres://postgres@127.0.0.1:5432"
RATE=${RATE:-5000}
go build -o .tools/bin/ecommerce ./cmd/ecommerce
go build -o .tools/bin/benchceiling ./scripts/benchceiling
[[ -x .tools/bin/vegeta ]] || GOBIN="$PWD/.tools/bin" go install github.com/tsenart/vegeta/v12@v12.12.0
for n in "${OFFERS[@]}"; do
  dbname="ecommerce_bench_$n"
  dir=".tools/run/bench-$n"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
  go run ./scripts/benchdata -database-url "$PG/$dbname?sslmode=disable" -courses 2000 -site-offers "$n" -vouchers 100000 -out "$dir" 2>&1 | sed 's/^/  /'
  # One learner sends every request: USER_RATE_LIMIT=0 lifts their 75 requests a minute.
  # Calculate needs no Temporal: the API points at an address where none answers, so that this
  # fresh database (a deployment of its own) never meets make run's namespace.
  GOGC=${GOGC:-100} DATABASE_URL="$PG/$dbname?sslmode=disable" LOG_LEVEL=warn HTTP_ADDR=127.0.0.1:8140 USER_RATE_LIMIT=0 \
    TEMPORAL_ADDRESS=127.0.0.1:1 \
    .tools/bin/ecommerce serve >"$dir/serve.log" 2>&1 &
  pid=$!
  .tools/bin/benchceiling -addr 127.0.0.1:8141 >"$dir/ceiling.log" 2>&1 &
  ceiling=$!
  trap 'kill $pid $ceiling 2>/dev/null || true' EXIT
  sleep 1
  token=$(.tools/bin/ecommerce token --username bench-learner)
  code=$(cat "$dir/code.txt")
  sku=$(psql -tA "$PG/$dbname" -c "SELECT s.partner_sku FROM vouchers v JOIN voucher_offers vo ON vo.voucher_id = v.id
        JOIN offers o ON o.id = vo.offer_id JOIN range_products rp ON rp.range_id = o.range_id
        JOIN stock_records s ON s.product_id = rp.product_id WHERE v.code = '$code'")
  cat >"$dir/random.lua" <<LUA
local skus = {}
for line in io.lines("$dir/skus.txt") do skus[#skus + 1] = line end
wrk.headers["Authorization"] = "JWT $token"
request = function() return wrk.format("GET", "/api/v2/baskets/calculate/?sku=" .. skus[math.random(#skus)]) end
LUA
  cat >"$dir/code.lua" <<LUA
wrk.headers["Authorization"] = "JWT $token"
request = function() return wrk.format("GET", "/api/v2/baskets/calculate/?sku=$sku&code=$code") end
LUA
  awk -v t="$token" '{print "GET http://127.0.0.1:8140/api/v2/baskets/calculate/?sku=" $1 "\nAuthorization: JWT " t "\n"}' "$dir/skus.txt" >"$dir/random.targets"
  printf 'GET http://127.0.0.1:8140/api/v2/baskets/calculate/?sku=%s&code=%s\nAuthorization: JWT %s\n\n' "$sku" "$code" "$token" >"$dir/code.targets"
  wrk -t2 -c4 -d3s -s "$dir/random.lua" http://127.0.0.1:8140 >/dev/null # warm up
  for mix in random code; do
    report=$(.tools/bin/vegeta attack -targets="$dir/$mix.targets" -rate="$RATE" -duration="$DURATION" -max-workers=64 | .tools/bin/vegeta report -type=text)
    lat=$(awk '/^Latencies/ {print $NF}' <<<"$report")
    read -r p50 p99 < <(awk '/^Latencies/ {gsub(",", ""); print $(NF-4), $(NF-1)}' <<<"$report")
    ok=$(awk '/^Success/ {print $NF}' <<<"$report")
    result=$(wrk -t2 -c8 -d"$DURATION" --latency -s "$dir/$mix.lua" http://127.0.0.1:8140)
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
    wp99=$(awk '$1 == "99%" {print $2}' <<<"$result")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$result")
    printf "| %s | %s | %s req/s: p50 %s, p99 %s, max %s, success %s | %s req/s (p99 %s%s) |\n" "$n" "$mix" "$RATE" "$p50" "$p99" "$lat" "$ok" "$rps" "$wp99" "${non2xx:+, $non2xx not 2xx}"
    [[ $mix == random ]] && random_rps=$rps
  done
  ceiling_result=$(wrk -t2 -c8 -d"$DURATION" --latency -s "$dir/random.lua" http://127.0.0.1:8141)
  ceiling_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$ceiling_result")
  printf "| %s | no-I/O ceiling (benchceiling) | | %s req/s (p99 %s); random calculate = %.2fx |\n" "$n" "$ceiling_rps" \
    "$(awk '$1 == "99%" {print $2}' <<<"$ceiling_result")" "$(awk -v a="$random_rps" -v b="$ceiling_rps" 'BEGIN {print a / b}')"
  kill $pid $ceiling
  wait $pid $ceiling 2>/dev/null || true
  trap - EXIT
  psql -q "$PG/postgres" -c "DROP DATABASE $dbname"
done
