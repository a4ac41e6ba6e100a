#!/usr/bin/env bash
# Rewrites the configuration table in README.md from the code (`ecommerce config`).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3  # the approved toolchain (go.mod), fetched by the machine's Go
table=$(go run ./cmd/ecommerce config)
python3 - "$table" <<'PY'
import re, sys
table = sys.argv[1].strip() + "\n"
readme = open("README.md").read()
start = readme.index("| variable | default | meaning |")
end = readme.index("\n\n", start) + 1
open("README.md", "w").write(readme[:start] + table + readme[end:])
PY
