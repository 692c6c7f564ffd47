#!/usr/bin/env bash
# Builds tierwall's KRM function image without pulling anything: a static binary
# built here, a passwd entry for nobody (kustomize runs functions with
# --user nobody) and an empty /tmp, copied FROM scratch by Dockerfile.local.
# (With Docker and registry access, `docker build -t tierwall:dev .` builds the
# same image from Dockerfile, Go toolchain included.)
#
# Usage: scripts/image.sh [IMAGE]          (default tierwall:dev)
# The engine is $CONTAINER_ENGINE when set, else docker when its daemon answers,
# else podman (with .bin/containers.conf from scripts/tools.sh podman).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE="${1:-tierwall:dev}"
VERSION="$("$ROOT/scripts/version.sh")"            # VERSION when set
LDFLAGS="$("$ROOT/scripts/version.sh" ldflags)"   # VERSION and COMMIT when set

engine="${CONTAINER_ENGINE:-}"
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null; then
    engine=podman
    if [[ -z "${CONTAINERS_CONF:-}" && -f "$ROOT/.bin/containers.conf" ]]; then
      export CONTAINERS_CONF="$ROOT/.bin/containers.conf"
    fi
  else
    echo "image: no container engine: install podman (scripts/tools.sh podman) or Docker, or set CONTAINER_ENGINE" >&2
    exit 1
  fi
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/tmp"
chmod 1777 "$ctx/rootfs/tmp"
# The same files as the last stage of Dockerfile.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$ctx/rootfs/etc/group"

arch="${GOARCH:-$(go env GOARCH)}"
echo "image: building the static tierwall binary (linux/$arch, $VERSION)" >&2
(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath \
  -ldflags "$LDFLAGS" -o "$ctx/rootfs/tierwall" ./fn/tierwall)
cp "$ROOT/Dockerfile.local" "$ctx/Dockerfile"

echo "image: $engine build -t $IMAGE" >&2
"$engine" build --platform "linux/$arch" -t "$IMAGE" -f "$ctx/Dockerfile" "$ctx" >&2
echo "$IMAGE"
