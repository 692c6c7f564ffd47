#!/usr/bin/env bash
# Builds tierwall's images without pulling anything: static binaries built on this machine
# (or taken from a release folder) copied FROM scratch, so that they build offline.
#
#   scripts/image.sh [IMAGE]                the KRM function image (default tierwall:dev,
#                                           Dockerfile.local): /tierwall, user nobody, no shell
#   scripts/image.sh --argocd-cmp [IMAGE]   the Argo CD Config Management Plugin sidecar
#                                           (default tierwall-argocd-cmp:dev,
#                                           scripts/images/argocd-cmp.Dockerfile): tierwall-postrender, helm,
#                                           kustomize, a static busybox sh, user 999, and
#                                           examples/argocd/cmp/plugin.yaml baked in
# Prints IMAGE on stdout. (With Docker and registry access, `docker build -t tierwall:dev .`
# builds the KRM function image from source with Dockerfile, Go toolchain included.)
#
# Environment:
#   PLATFORMS   linux/ARCH ... (default: this machine's). Several make IMAGE a manifest list
#               of one image per platform (podman only: Docker keeps lists in registries).
#   BINARIES    a release folder (scripts/release.sh) holding tierwall_linux_<arch> and
#               tierwall-postrender_linux_<arch>: used instead of building them
#   VERSION, COMMIT   stamped into the binaries and the OCI labels (scripts/version.sh)
#   HELM, KUSTOMIZE, BUSYBOX   (--argocd-cmp) static linux binaries for the image: paths, or
#               folders holding one per architecture (<dir>/linux_<arch>/<name>). Default:
#               .bin/helm, .bin/kustomize and .bin/busybox (scripts/tools.sh helm3 kustomize
#               busybox), which are this machine's.
#   CONTAINER_ENGINE   docker or podman (default: docker when its daemon answers, else
#               podman with .bin/containers.conf from scripts/tools.sh podman)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
kind=krm
if [[ "${1:-}" == --argocd-cmp ]]; then kind=cmp; shift; fi
default_image=tierwall:dev
[[ "$kind" == cmp ]] && default_image=tierwall-argocd-cmp:dev
IMAGE="${1:-$default_image}"
VERSION="$("$ROOT/scripts/version.sh")"            # VERSION when set
COMMIT="$("$ROOT/scripts/version.sh" commit)"      # COMMIT when set
LDFLAGS="$(VERSION="$VERSION" COMMIT="$COMMIT" "$ROOT/scripts/version.sh" ldflags)"
TOOLS="$ROOT/.bin"

log() { echo "image: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/images/engine.sh
. "$ROOT/scripts/images/engine.sh"

host_arch="$(go env GOARCH)"
read -r -a platforms <<< "${PLATFORMS:-linux/$host_arch}"
arches=()
for p in "${platforms[@]}"; do
  [[ "$p" =~ ^linux/[a-z0-9]+$ ]] || die "platform $p: want linux/ARCH (images are linux only)"
  arches+=("${p#linux/}")
done

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

# binary NAME ARCH DEST: a tierwall binary for linux/ARCH, from BINARIES or built here.
binary() {
  if [[ -n "${BINARIES:-}" ]]; then
    [[ -f "$BINARIES/$1_linux_$2" ]] || die "BINARIES=$BINARIES has no $1_linux_$2"
    cp "$BINARIES/$1_linux_$2" "$3"
  else
    local pkg=./fn/tierwall
    [[ "$1" == tierwall-postrender ]] && pkg=./postrender/tierwall-postrender
    log "building $1 (linux/$2, $VERSION)"
    (cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH="$2" go build -trimpath -ldflags "$LDFLAGS" -o "$3" "$pkg")
  fi
  chmod 0755 "$3"
}

# tool NAME ENV ARCH: the static linux/ARCH binary NAME for the sidecar.
tool() {
  local given="${!2:-}" path
  if [[ -z "$given" ]]; then
    [[ "$3" == "$host_arch" ]] || die "$1 for linux/$3: set $2 (a folder with linux_$3/$1, or the binary)"
    given="$TOOLS/$1"
  fi
  path="$given"
  [[ -d "$given" ]] && path="$given/linux_$3/$1"
  [[ -x "$path" ]] || die "$1 for linux/$3: $path is missing (scripts/tools.sh installs this machine's; or set $2)"
  if command -v file >/dev/null && ! file -L "$path" | grep -q 'statically linked'; then
    die "$path is not statically linked: the image has no C library"
  fi
  echo "$path"
}

created="$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || true)"
for arch in "${arches[@]}"; do
  rootfs="$ctx/rootfs-$arch"
  mkdir -p "$rootfs/etc" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  if [[ "$kind" == krm ]]; then
    # The same files as the last stage of Dockerfile.
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$rootfs/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"
    binary tierwall "$arch" "$rootfs/tierwall"
  else
    printf 'root:x:0:0:root:/root:/sbin/nologin\nargocd:x:999:999:argocd:/home/argocd:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$rootfs/etc/passwd"
    printf 'root:x:0:\nargocd:x:999:\nnobody:x:65534:\n' > "$rootfs/etc/group"
    mkdir -p "$rootfs/bin" "$rootfs/usr/local/bin" "$rootfs/home/argocd/cmp-server/config" "$rootfs/etc/ssl/certs"
    binary tierwall-postrender "$arch" "$rootfs/usr/local/bin/tierwall-postrender"
    cp "$(tool helm HELM "$arch")" "$rootfs/usr/local/bin/helm"
    cp "$(tool kustomize KUSTOMIZE "$arch")" "$rootfs/usr/local/bin/kustomize"
    cp "$(tool busybox BUSYBOX "$arch")" "$rootfs/bin/busybox"
    chmod 0755 "$rootfs"/usr/local/bin/* "$rootfs/bin/busybox"
    # The applets the plugin's commands use, and a few to look around with; no network tool.
    for applet in sh ash basename cat cp cut dirname echo env false find grep head id ls mkdir \
      mktemp mv printf pwd rm sed sort tail test tr true wc '['; do
      ln -s busybox "$rootfs/bin/$applet"
    done
    cp "$ROOT/examples/argocd/cmp/plugin.yaml" "$rootfs/home/argocd/cmp-server/config/plugin.yaml"
    # CA certificates for charts and bases fetched over HTTPS (helm dependency build).
    for bundle in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
      if [[ -f "$bundle" ]]; then cp "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"; break; fi
    done
  fi
done
dockerfile="$ROOT/Dockerfile.local"
[[ "$kind" == cmp ]] && dockerfile="$ROOT/scripts/images/argocd-cmp.Dockerfile"
cp "$dockerfile" "$ctx/Dockerfile"

args=(--build-arg "VERSION=$VERSION" --build-arg "REVISION=$COMMIT" --build-arg "CREATED=$created")
if [[ ${#arches[@]} == 1 ]]; then
  log "$engine build -t $IMAGE (linux/${arches[0]})"
  "$engine" build --platform "linux/${arches[0]}" --build-arg "TARGETARCH=${arches[0]}" "${args[@]}" \
    -t "$IMAGE" -f "$ctx/Dockerfile" "$ctx" >&2
else
  [[ "$("$engine" --version 2>/dev/null)" == *podman* ]] || die "several PLATFORMS need podman (a local manifest list)"
  # A manifest list of that name replaces an image or list of that name.
  "$engine" manifest rm "$IMAGE" >/dev/null 2>&1 || "$engine" rmi "$IMAGE" >/dev/null 2>&1 || true
  list="$(printf 'linux/%s,' "${arches[@]}")"
  log "$engine build --manifest $IMAGE (${list%,})"
  "$engine" build --platform "${list%,}" "${args[@]}" --manifest "$IMAGE" -f "$ctx/Dockerfile" "$ctx" >&2
fi
echo "$IMAGE"
