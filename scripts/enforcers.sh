#!/usr/bin/env bash
# Builds the real NetworkPolicy enforcers the packet tests (pkg/internal/enforce) run, into .bin/
# (git-ignored), and installs the system tools they need. Each enforcer is skipped when the
# pinned version is already there, so warm runs take a second.
#
#   kube-network-policies  SIG Network's enforcer (NFQUEUE, verdicts in user space)
#   kube-router            kube-router's firewall controller (iptables + ipset), run with
#                          --run-router=false --run-service-proxy=false
#
# Both come from the Go module proxy; cold builds take about 2 minutes each on 2 busy cores.
# `packages` installs Debian's ipset and nftables when missing (see install_packages).
# Usage: scripts/enforcers.sh [kube-network-policies] [kube-router] [packages]   (no argument: all)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${TIERWALL_BIN_DIR:-$ROOT/.bin}"
mkdir -p "$BIN"

KNP_VERSION=v0.8.0
KUBE_ROUTER_VERSION=v2.1.0

# CGO off: static, faster to build, no compiler needed.
export CGO_ENABLED=0

log() { echo "enforcers: $*" >&2; }

stamp_ok() { [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]; }

# install NAME PACKAGE VERSION [LDFLAGS]: go install PACKAGE@VERSION into a temporary GOBIN and
# move the binary (named after the package's last element) to .bin/NAME with a version stamp.
install() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-}
  if stamp_ok "$name" "$version"; then return; fi
  log "building $name $version (about 2 minutes cold)"
  local tmp; tmp="$(mktemp -d)"
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
  mv "$tmp/${pkg##*/}" "$BIN/$name"; rm -rf "$tmp"
  echo "$version" > "$BIN/.$name.version"
}

# install_packages: Debian's ipset (kube-router calls it) and nftables (the suite reads the
# host's ruleset with nft before and after, to prove it unchanged), when missing.
install_packages() {
  local missing=()
  command -v ipset >/dev/null || missing+=(ipset)
  command -v nft >/dev/null || missing+=(nftables)
  [[ ${#missing[@]} -gt 0 ]] || return 0
  log "installing ${missing[*]} from Debian"
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

want=("$@"); [[ ${#want[@]} -gt 0 ]] || want=(kube-network-policies kube-router packages)
for t in "${want[@]}"; do
  case "$t" in
    # The main package of kube-network-policies is the module's cmd/ folder.
    kube-network-policies) install kube-network-policies sigs.k8s.io/kube-network-policies/cmd "$KNP_VERSION" ;;
    kube-router) install kube-router github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$KUBE_ROUTER_VERSION" \
      "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" ;;
    packages) install_packages ;;
    *) echo "enforcers: unknown tool $t" >&2; exit 2 ;;
  esac
done
