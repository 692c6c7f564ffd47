#!/usr/bin/env bash
# Runs golangci-lint, pinned, with .golangci.yml; installs it into .bin/ (git-ignored)
# from the Go module proxy the first time (about 2 minutes cold), as scripts/tools.sh
# does for the other tools.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${TIERWALL_BIN_DIR:-$ROOT/.bin}"
VERSION=v2.15.0
mkdir -p "$BIN"

if [[ ! -x "$BIN/golangci-lint" || "$(cat "$BIN/.golangci-lint.version" 2>/dev/null)" != "$VERSION" ]]; then
  echo "lint: building golangci-lint $VERSION (about 2 minutes cold)" >&2
  tmp="$(mktemp -d)"
  GOBIN="$tmp" CGO_ENABLED=0 go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$VERSION"
  mv "$tmp/golangci-lint" "$BIN/golangci-lint"; rm -rf "$tmp"
  echo "$VERSION" > "$BIN/.golangci-lint.version"
fi
cd "$ROOT"
exec "$BIN/golangci-lint" run "$@" ./...
