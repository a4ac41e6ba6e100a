#!/usr/bin/env bash
# Installs the pinned developer tools into .tools/bin (git-ignored, kept between runs):
# sqlc (code generation and `sqlc diff`) and the Temporal CLI (dev server with the Web UI).
# The first Temporal build compiles the server and the UI: several minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.tools/bin"
mkdir -p "$BIN"

SQLC_VERSION=v1.31.1
TEMPORAL_VERSION=v1.5.1

install_tool() { # name version package
  local name=$1 version=$2 pkg=$3 stamp="$BIN/.$1.version"
  if [[ -x "$BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    return
  fi
  echo "tools: installing $name $version (cached in .tools/bin)" >&2
  GOBIN="$BIN" go install -ldflags "-s -w" "$pkg@$version"
  echo "$version" >"$stamp"
}

install_tool sqlc "$SQLC_VERSION" github.com/sqlc-dev/sqlc/cmd/sqlc
install_tool temporal "$TEMPORAL_VERSION" github.com/temporalio/cli/cmd/temporal
