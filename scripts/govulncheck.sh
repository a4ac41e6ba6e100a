#!/usr/bin/env bash
# Checks the module against the Go vulnerability database (`make vuln`, part of `make test`):
# govulncheck with the local copy of the database that scripts/tools.sh builds in .tools/vulndb
# (both versions are pinned there; vuln.go.dev cannot be reached from here). It fails when anything
# is reported: a vulnerable function the code can reach, and also a vulnerable package it imports
# or a vulnerable version of a module it requires. The standard library checked is the one of the
# toolchain below.
#   scripts/govulncheck.sh [packages]      default ./...
set -euo pipefail
cd "$(dirname "$0")/.."
# The approved Go toolchain (go.mod's go line): the machine's own Go fetches it from the module proxy.
export GOTOOLCHAIN=go1.27.3
GOVULNCHECK="$PWD/.tools/bin/govulncheck"
VULNDB="$PWD/.tools/vulndb"
scripts/tools.sh # govulncheck and the database, at the versions pinned there (cached)

report=$(mktemp)
trap 'rm -f "$report"' EXIT
# JSON holds every finding (text mode shows only the reachable ones unless -show verbose).
"$GOVULNCHECK" -db "file://$VULNDB" -format json "${@:-./...}" >"$report"
if grep -q '"finding":' "$report"; then
  show=() # the vulnerabilities the code reaches; when there are none, the imported and required ones
  if "$GOVULNCHECK" -mode convert <"$report" >/dev/null; then show=(-show verbose); fi
  "$GOVULNCHECK" -mode convert "${show[@]}" <"$report" || true
  echo "govulncheck: vulnerabilities reported above: upgrade the module named (go get module@fixed) or the Go toolchain" >&2
  exit 1
fi
echo "govulncheck: no vulnerabilities ($(go env GOVERSION) standard library, golang.org/x/vulndb $(cat "$VULNDB/.version"))"
