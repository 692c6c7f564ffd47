#!/usr/bin/env bash
# Assembles tierwall's Helm 4 plugin folder: postrender/plugin/plugin.yaml and
# bin/tierwall-postrender-<os>-<arch> for each platform asked for.
#
# Usage: scripts/plugin.sh DIR [all | OS/ARCH ...]   (default: this machine's)
#   PREBUILT=path  use this already built binary for this machine's platform
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:?usage: scripts/plugin.sh DIR [all | OS/ARCH ...]}"; shift
LDFLAGS="$("$ROOT/scripts/version.sh" ldflags)"   # VERSION and COMMIT when set
host="$(go env GOOS)/$(go env GOARCH)"

platforms=("$@")
[[ ${#platforms[@]} -gt 0 ]] || platforms=("$host")
if [[ "${platforms[0]}" == all ]]; then
  # Every platform plugin.yaml has a command for.
  mapfile -t platforms < <(awk '/- os:/ {os=$3} /arch:/ {print os "/" $2}' "$ROOT/postrender/plugin/plugin.yaml")
fi

# Only ever replace a plugin folder (never wipe a directory given by mistake).
if [[ -d "$DIR" && -n "$(ls -A "$DIR")" && ! -f "$DIR/plugin.yaml" ]]; then
  echo "plugin: $DIR exists and is not a plugin folder; not replacing it" >&2; exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR/bin"
cp "$ROOT/postrender/plugin/plugin.yaml" "$DIR/plugin.yaml"
for p in "${platforms[@]}"; do
  os="${p%/*}" arch="${p#*/}"
  grep -q "tierwall-postrender-$os-$arch" "$DIR/plugin.yaml" || {
    echo "plugin: plugin.yaml has no command for $p" >&2; exit 1; }
  out="$DIR/bin/tierwall-postrender-$os-$arch"
  [[ "$os" == windows ]] && out="$out.exe"
  if [[ "$p" == "$host" && -n "${PREBUILT:-}" ]]; then
    cp "$PREBUILT" "$out"
    continue
  fi
  echo "plugin: building $p" >&2
  (cd "$ROOT" && CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath \
    -ldflags "$LDFLAGS" -o "$out" ./postrender/tierwall-postrender)
done
