#!/usr/bin/env bash
# Installs the pinned developer tools into .tools/bin (git-ignored, kept between runs):
# sqlc (code generation and `sqlc diff`), the Temporal CLI (dev server with the Web UI) and
# govulncheck, and builds the Go vulnerability database govulncheck reads into .tools/vulndb.
# The first Temporal build compiles the server and the UI: several minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# The approved Go toolchain (go.mod's go line): the machine's own Go fetches it from the module proxy.
export GOTOOLCHAIN=go1.27.3
BIN="$PWD/.tools/bin"
VULNDB="$PWD/.tools/vulndb"
mkdir -p "$BIN"

SQLC_VERSION=v1.31.1
TEMPORAL_VERSION=v1.5.1
GOVULNCHECK_VERSION=v1.9.0
# The Go vulnerability database: the reports of golang.org/x/vulndb at this version (its data/osv),
# indexed by its own cmd/indexdb. govulncheck cannot reach vuln.go.dev from here, and a pinned copy
# keeps `make vuln` reproducible: raise this version to learn about newer vulnerabilities.
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018

install_tool() { # name version package [anything else that asks for a rebuild when it changes]
  local name=$1 version=$2 pkg=$3 stamp="$BIN/.$1.version" want="$2${4:+ $4}"
  if [[ -x "$BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  echo "tools: installing $name $version (cached in .tools/bin)" >&2
  GOBIN="$BIN" go install -ldflags "-s -w" "$pkg@$version"
  echo "$want" >"$stamp"
}

build_vulndb() { # .tools/vulndb: index/db.json, index/modules.json, ID/<id>.json (govulncheck -db file://)
  local stamp="$VULNDB/.version" tmp src
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$VULNDB_VERSION" ]]; then
    return
  fi
  echo "tools: building the vulnerability database from golang.org/x/vulndb $VULNDB_VERSION (cached in .tools/vulndb)" >&2
  install_tool indexdb "$VULNDB_VERSION" golang.org/x/vulndb/cmd/indexdb
  tmp=$(mktemp -d) # outside this module, so that go.mod and go.sum are left alone
  src=$(cd "$tmp" && go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || src=
  rmdir "$tmp"
  if [[ -z "$src" || ! -d "$src/data/osv" ]]; then
    echo "tools: golang.org/x/vulndb $VULNDB_VERSION: not downloaded, or without data/osv" >&2
    exit 1
  fi
  rm -rf "$VULNDB.tmp"
  "$BIN/indexdb" -vulns "$src/data/osv" -out "$VULNDB.tmp"
  if [[ ! -s "$VULNDB.tmp/index/modules.json" || ! -s "$VULNDB.tmp/ID/GO-2026-5676.json" ]]; then
    echo "tools: the vulnerability database in .tools/vulndb.tmp looks incomplete" >&2
    exit 1
  fi
  echo "$VULNDB_VERSION" >"$VULNDB.tmp/.version"
  rm -rf "$VULNDB"
  mv "$VULNDB.tmp" "$VULNDB"
}

install_tool sqlc "$SQLC_VERSION" github.com/sqlc-dev/sqlc/cmd/sqlc
install_tool temporal "$TEMPORAL_VERSION" github.com/temporalio/cli/cmd/temporal
# govulncheck type-checks the code with the go/types of the Go that built it: rebuilt with each toolchain.
install_tool govulncheck "$GOVULNCHECK_VERSION" golang.org/x/vuln/cmd/govulncheck "$GOTOOLCHAIN"
build_vulndb
