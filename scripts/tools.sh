#!/usr/bin/env bash
# Installs the pinned real binaries the end-to-end tests drive into .bin/ (git-ignored).
# Each tool is skipped when the pinned version is already there, so warm runs take seconds.
# Usage: scripts/tools.sh [kustomize] [helm3] [helm4] [podman] [busybox] [krew]   (no argument: all)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${TIERWALL_BIN_DIR:-$ROOT/.bin}"
mkdir -p "$BIN"

KUSTOMIZE_VERSION=v5.8.2
HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.3.1
KREW_VERSION=v0.4.3

# CGO off: static, faster to build, no compiler needed.
export CGO_ENABLED=0

log() { echo "tools: $*" >&2; }

stamp_ok() { [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]; }

install_kustomize() {
  if stamp_ok kustomize "$KUSTOMIZE_VERSION"; then return; fi
  log "building kustomize $KUSTOMIZE_VERSION (about 3 minutes cold)"
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  mv "$tmp/kustomize" "$BIN/kustomize"; rm -rf "$tmp"
  echo "$KUSTOMIZE_VERSION" > "$BIN/.kustomize.version"
}

install_helm() { # name module version
  local name=$1 major=$2 version=$3
  if stamp_ok "$name" "$version"; then return; fi
  log "building $name $version (about 10 minutes cold)"
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" go install \
    -ldflags "-X helm.sh/helm/$major/internal/version.version=$version" \
    "helm.sh/helm/$major/cmd/helm@$version"
  mv "$tmp/helm" "$BIN/$name"; rm -rf "$tmp"
  echo "$version" > "$BIN/.$name.version"
}

install_podman() {
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v buildah >/dev/null; then
    log "installing podman, buildah and runc from Debian"
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends \
      podman buildah runc uidmap slirp4netns fuse-overlayfs containernetworking-plugins >/dev/null
  fi
  configure_podman
}

# configure_podman writes .bin/containers.conf and .bin/docker, a docker CLI that
# runs podman with that configuration, so that kustomize (which runs container
# functions with `docker run`) works on hosts with podman only. Put .bin first on
# PATH to use it. The configuration picks runc (crun is not installed, and runc is
# what works in VMs without systemd) and sets the ulimits explicitly: podman's
# default copies the host's limits, which an unprivileged VM may not raise.
configure_podman() {
  local conf="$BIN/containers.conf" shim="$BIN/docker"
  cat > "$conf.tmp" <<'CONF'
# Written by scripts/tools.sh for tierwall's tests and `make image`.
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
events_logger = "file"
CONF
  mv "$conf.tmp" "$conf"
  cat > "$shim.tmp" <<SHIM
#!/bin/sh
# Written by scripts/tools.sh: a docker CLI made of podman, for kustomize container
# functions (kustomize runs \`docker run ...\`). Uses $conf
# unless CONTAINERS_CONF names another file.
CONTAINERS_CONF="\${CONTAINERS_CONF:-$conf}"
export CONTAINERS_CONF
exec podman "\$@"
SHIM
  chmod +x "$shim.tmp"; mv "$shim.tmp" "$shim"
}

# A static busybox for the Argo CD plugin sidecar image (scripts/image.sh --argocd-cmp): the
# one on PATH when it is static, else Debian's busybox-static package, unpacked (no root).
install_busybox() {
  if [[ -x "$BIN/busybox" ]]; then return; fi
  local p; p="$(command -v busybox || true)"
  if [[ -n "$p" ]] && file -L "$p" 2>/dev/null | grep -q 'statically linked'; then
    cp "$p" "$BIN/busybox"; return
  fi
  command -v apt-get >/dev/null || { log "busybox: install a static busybox (Debian: busybox-static) or put one at $BIN/busybox"; exit 1; }
  log "fetching Debian's busybox-static"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -qq busybox-static 2>/dev/null && dpkg-deb -x busybox-static_*.deb x)
  cp "$tmp/x/bin/busybox" "$BIN/busybox"; rm -rf "$tmp"
}

# krew, the kubectl plugin manager, for the krew manifest's test (about 15 seconds cold).
install_krew() {
  if stamp_ok krew "$KREW_VERSION"; then return; fi
  log "building krew $KREW_VERSION"
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" go install "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION"
  mv "$tmp/krew" "$BIN/krew"; rm -rf "$tmp"
  echo "$KREW_VERSION" > "$BIN/.krew.version"
}

want=("$@"); [[ ${#want[@]} -gt 0 ]] || want=(kustomize helm3 helm4 podman busybox krew)
for t in "${want[@]}"; do
  case "$t" in
    kustomize) install_kustomize ;;
    helm3) install_helm helm v3 "$HELM3_VERSION" ;;
    helm4) install_helm helm4 v4 "$HELM4_VERSION" ;;
    podman) install_podman ;;
    busybox) install_busybox ;;
    krew) install_krew ;;
    *) echo "tools: unknown tool $t" >&2; exit 2 ;;
  esac
done
