#!/usr/bin/env bash
# Builds the `tierwall verify` image without pulling anything (FROM scratch, scripts/images/verify.Dockerfile):
# tierwall-verify (tierwall built with -tags verify), the two NetworkPolicy enforcers,
# kube-apiserver, etcd and scripts/apiserver.sh, plus the system programs the sandbox runs
# (ip, iptables, ipset, nft, sysctl, unshare, mount, bash, openssl, curl, ss), copied from this
# machine with every shared library ldd lists and the dynamic loader, and a static busybox for
# the rest of the shell tools. Its entrypoint is `tierwall-verify verify`; it needs
# --privileged (network namespaces, iptables, ipset):
#
#   podman run --rm --privileged -v "$PWD:/work:ro" tierwall-verify:dev /work/rendered.yaml
#
#   scripts/verify-image.sh [IMAGE]   (default tierwall-verify:dev; prints IMAGE on stdout)
#
# This machine's architecture only: the system programs are this machine's.
#
# Environment:
#   TIERWALL_VERIFY   a static tierwall-verify to use instead of building one (make verify-bin)
#   KUBE_ROUTER, KUBE_NETWORK_POLICIES, KUBE_APISERVER, ETCD, BUSYBOX   the static binaries
#               for the image (default .bin/: scripts/enforcers.sh, scripts/apiserver.sh build,
#               scripts/tools.sh busybox)
#   VERSION, COMMIT   stamped into the binary and the OCI labels (scripts/version.sh)
#   CONTAINER_ENGINE   docker or podman (default: docker when its daemon answers, else
#               podman with .bin/containers.conf from scripts/tools.sh podman)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE="${1:-tierwall-verify:dev}"
VERSION="$("$ROOT/scripts/version.sh")"            # VERSION when set
COMMIT="$("$ROOT/scripts/version.sh" commit)"      # COMMIT when set
LDFLAGS="$(VERSION="$VERSION" COMMIT="$COMMIT" "$ROOT/scripts/version.sh" ldflags)"
TOOLS="$ROOT/.bin"
export PATH="$PATH:/usr/sbin:/sbin"

log() { echo "verify-image: $*" >&2; }
die() { log "$*"; exit 1; }

[[ "$(uname -s)" == Linux ]] || die "the image takes this machine's ip, iptables and ipset: build it on Linux"

# shellcheck source=scripts/images/engine.sh
. "$ROOT/scripts/images/engine.sh"

arch="$(go env GOARCH)"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
rootfs="$ctx/rootfs"

# A merged /usr, as Debian and Fedora have: /bin, /sbin, /lib and /lib64 point into /usr, so
# a program or library copied to its path on this machine lands at the same path in the image.
mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64,local/bin} "$rootfs"/{etc,tmp,run,var,work,opt/tierwall/scripts}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$rootfs/$d"; done
ln -s ../run "$rootfs/var/run"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"

# static PATH: PATH when it is a statically linked binary, else fail.
static() {
  [[ -x "$1" ]] || die "$1 is missing (make tools installs the enforcers, kube-apiserver, etcd and busybox)"
  if command -v file >/dev/null && ! file -L "$1" | grep -q 'statically linked'; then
    die "$1 is not statically linked"
  fi
}

# put FILE: copies FILE (a symlink's target's content) to the same path in the image.
put() {
  local dest="$rootfs$1"
  [[ -e "$dest" ]] && return
  mkdir -p "$(dirname "$dest")"
  cp -L "$1" "$dest"
}

# put_libs FILE: the shared libraries FILE needs (ldd: every one, recursively) and the loader.
put_libs() {
  local lib
  # "libx.so.1 => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"; a static program
  # has none.
  for lib in $(ldd "$1" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
    put "$lib"
  done
}

# program NAME: the host's NAME, with its libraries, at its path in the image.
program() {
  local p
  p="$(command -v "$1")" || die "$1 is not installed here: the sandbox runs it (Debian: iproute2, iptables, ipset, nftables, procps, util-linux, bash, openssl, curl)"
  put "$p"
  put_libs "$p"
}

# tierwall-verify
if [[ -n "${TIERWALL_VERIFY:-}" ]]; then
  static "$TIERWALL_VERIFY"
  cp "$TIERWALL_VERIFY" "$rootfs/usr/local/bin/tierwall-verify"
else
  log "building tierwall-verify (linux/$arch, $VERSION)"
  (cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -tags verify -trimpath -ldflags "$LDFLAGS" \
    -o "$rootfs/usr/local/bin/tierwall-verify" ./fn/tierwall)
fi

# The enforcers, kube-apiserver and etcd (static Go programs), and the API server's script at
# /opt/tierwall/scripts/apiserver.sh (it finds itself through its folder's parent).
for spec in kube-router:KUBE_ROUTER kube-network-policies:KUBE_NETWORK_POLICIES \
  kube-apiserver:KUBE_APISERVER etcd:ETCD; do
  name="${spec%%:*}" env="${spec#*:}"
  src="${!env:-$TOOLS/$name}"
  static "$src"
  cp "$src" "$rootfs/usr/local/bin/$name"
done
cp "$ROOT/scripts/apiserver.sh" "$rootfs/opt/tierwall/scripts/apiserver.sh"
chmod 0755 "$rootfs"/usr/local/bin/* "$rootfs/opt/tierwall/scripts/apiserver.sh"

# The system programs: the sandbox runs ip, iptables, sysctl and unshare (and mount, inside
# kube-network-policies' mount namespace); kube-router runs iptables(-save|-restore) and ipset;
# kube-network-policies runs nft; scripts/apiserver.sh is bash and runs openssl, curl and ss.
for p in bash ip ipset nft sysctl unshare mount openssl curl ss; do program "$p"; done

# iptables is a multi-call program (xtables-nft-multi or xtables-legacy-multi, whichever this
# machine's iptables is), with its extensions loaded at run time from an xtables folder that
# ldd does not list.
ipt="$(command -v iptables)" || die "iptables is not installed here"
multi="$(readlink -f "$ipt")"
put "$multi"
put_libs "$multi"
for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf "$(basename "$multi")" "$rootfs$(dirname "$multi")/$name"
done
xt=""
for d in "${XTABLES_LIBDIR:-}" /usr/lib/*-linux-gnu/xtables /usr/lib64/xtables /usr/lib/xtables /usr/libexec/xtables; do
  if [[ -n "$d" && -d "$d" ]]; then xt="$d"; break; fi
done
[[ -n "$xt" ]] || die "iptables' extension folder (xtables) not found: set XTABLES_LIBDIR"
mkdir -p "$rootfs$xt"
for so in "$xt"/*.so; do put "$so"; put_libs "$so"; done

# openssl reads its configuration file at start.
ossl_dir="$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')"
if [[ -n "$ossl_dir" && -f "$ossl_dir/openssl.cnf" ]]; then put "$ossl_dir/openssl.cnf"; fi

# A static busybox for what the scripts run besides those: coreutils, sed, grep, sh.
busybox="${BUSYBOX:-$TOOLS/busybox}"
static "$busybox"
cp "$busybox" "$rootfs/usr/bin/busybox"
chmod 0755 "$rootfs/usr/bin/busybox"
for applet in sh basename cat chmod cp cut date dirname echo env false find grep head id kill ln \
  ls mkdir mktemp mv printf ps pwd readlink rm sed seq sleep sort tail tee test touch tr true \
  uname wc '['; do
  [[ -e "$rootfs/usr/bin/$applet" || -e "$rootfs/usr/sbin/$applet" ]] || ln -s busybox "$rootfs/usr/bin/$applet"
done

cp "$ROOT/scripts/images/verify.Dockerfile" "$ctx/Dockerfile"
created="$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || true)"
log "$engine build -t $IMAGE (linux/$arch, $(du -sh "$rootfs" | cut -f1))"
"$engine" build --platform "linux/$arch" --build-arg "VERSION=$VERSION" --build-arg "REVISION=$COMMIT" \
  --build-arg "CREATED=$created" -t "$IMAGE" -f "$ctx/Dockerfile" "$ctx" >&2
echo "$IMAGE"
