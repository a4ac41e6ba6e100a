# The two commands that matter: `make run` (try the service) and `make test` (every test).
SHELL := bash
# The approved Go toolchain (go.mod's go line). The machine's own Go (1.26) runs it only when told
# to: it fetches go1.27.3 from the Go module proxy once and keeps it in the module cache.
export GOTOOLCHAIN := go1.27.3
GO ?= go
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export TEST_DATABASE_URL
# The tests' own headless Temporal dev server, away from make run's (TEMPORAL_ADDRESS, 127.0.0.1:7233).
TEST_TEMPORAL_ADDRESS ?= 127.0.0.1:7243
SQLC := .tools/bin/sqlc

.DEFAULT_GOAL := help
.PHONY: help run test unit lint vuln generate tools temporal temporal-stop build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

run: tools ## migrate, seed the demo catalog and serve on 127.0.0.1:8130, with the Temporal UI (the banner prints its URL; :8233)
	temporal=$$(TEMPORAL_DB_FILE=$${TEMPORAL_DB_FILE-$(CURDIR)/.tools/run/temporal-dev.db} scripts/temporal.sh ensure --env) && \
	env $$temporal CORS_ORIGINS=$${CORS_ORIGINS-http://127.0.0.1:1998} $(GO) run ./cmd/ecommerce dev

test: tools lint vuln ## lint, govulncheck, then every unit and integration test on the real PostgreSQL and Temporal (own server on :7243)
	TEMPORAL_ADDRESS=$(TEST_TEMPORAL_ADDRESS) scripts/temporal.sh ensure --headless
	TEMPORAL_ADDRESS=$(TEST_TEMPORAL_ADDRESS) $(GO) test -count=1 ./...

unit: ## the tests that need neither PostgreSQL nor Temporal
	$(GO) test -count=1 ./commerce/... ./auth/... ./payment/... ./lms/... ./simulators/...

lint: tools ## gofmt (of the toolchain), go vet, sqlc diff and the no-pgtype.Numeric guard
	@gofmt="$$($(GO) env GOROOT)/bin/gofmt"; \
	test -z "$$($$gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))" || { $$gofmt -l .; echo "gofmt: run gofmt -w on the files above"; exit 1; }
	$(GO) vet ./...
	$(SQLC) diff
	@! grep -rn 'pgtype\.Numeric' db/internal/dbgen || { echo "sqlc generated pgtype.Numeric: add an override"; exit 1; }

vuln: tools ## govulncheck against the pinned local vulnerability database; fails on any finding
	scripts/govulncheck.sh

generate: tools ## regenerate the sqlc code from db/schema and db/queries
	$(SQLC) generate

tools: ## install the pinned sqlc, Temporal CLI and govulncheck into .tools/bin, the vuln DB into .tools/vulndb (cached)
	@scripts/tools.sh

temporal: tools ## start a Temporal dev server with our namespace, search attributes and the Web UI
	scripts/temporal.sh ensure

temporal-stop: ## stop the Temporal dev servers started by this repo (make run's and make test's)
	scripts/temporal.sh stop

build: ## build bin/ecommerce
	$(GO) build -o bin/ecommerce ./cmd/ecommerce

.PHONY: load
load: ## buy seats as many learners at once against a running make run (ARGS="--users 20 --count 200 --bare")
	$(GO) run ./cmd/ecommerce load $(ARGS)

# How long make fuzz runs each fuzz target (a go test -fuzztime: 10s, 1m, 5000x).
FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: ## run every fuzz target (func Fuzz* of the *_test.go files) for FUZZTIME each (default 10s); failures land in testdata/fuzz
	@set -euo pipefail; \
	for file in $$(git ls-files --cached --others --exclude-standard -- '*_test.go' | xargs grep -l '^func Fuzz' | sort); do \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
	    echo "== $$name ($$(dirname "$$file")) for $(FUZZTIME)"; \
	    $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "./$$(dirname "$$file")"; \
	  done; \
	done

# The fault suite's size: purchases per scenario and how long the LMS is down.
FAULT_RUNS ?= 200
FAULT_LMS_DOWN ?= 2m

.PHONY: faults
faults: tools ## the fault suite: purchases while Temporal or PostgreSQL restart, the worker is killed, the LMS is down, callbacks repeat or are forged (FAULT_RUNS=200, FAULT_LMS_DOWN=2m); one line per scenario
	TEMPORAL_ADDRESS=$(TEST_TEMPORAL_ADDRESS) scripts/temporal.sh ensure --headless
	@report=$$(mktemp); \
	TEMPORAL_ADDRESS=$(TEST_TEMPORAL_ADDRESS) FAULT_RUNS=$(FAULT_RUNS) FAULT_LMS_DOWN=$(FAULT_LMS_DOWN) FAULT_REPORT=$$report \
	  $(GO) test -count=1 -timeout 60m -run '^TestFault' ./e2e; status=$$?; \
	echo "== fault suite ($(FAULT_RUNS) purchases per scenario, LMS down $(FAULT_LMS_DOWN))"; cat $$report; rm -f $$report; exit $$status

.PHONY: test-browser screenshots
test-browser: tools ## browser tests: Playwright drives Debian's Chromium through the shop pages, the simulators and the Temporal UI (own ports; screenshots in .tools/run/screenshots)
	scripts/test-browser.sh

screenshots: tools ## the browser tests, writing their screenshots to docs/screenshots (the README's and the runbook's)
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots scripts/test-browser.sh
