#!/usr/bin/env bash
# Builds tierwall's release artifacts: static binaries of both commands and a
# Helm 4 plugin archive per platform, with their SHA-256 sums.
#
# Usage: scripts/release.sh [OUT_DIR]        (make release; default dist/release/<version>)
#   VERSION    the version stamped into the binaries (default: scripts/version.sh: the tag,
#              or 0.0.0-dev+<commit>)
#   COMMIT     the commit stamped into them (default: scripts/version.sh commit)
#   PLATFORMS  OS/ARCH list (default: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
#
# OUT_DIR gets, for each platform:
#   tierwall_<os>_<arch>                         the KRM function and CLI (tierwall version)
#   tierwall-postrender_<os>_<arch>              the Helm 3 post-renderer (--version)
#   tierwall-<plugin version>-<os>-<arch>.tgz    the Helm 4 plugin: tierwall/plugin.yaml and
#                                                tierwall/bin/tierwall-postrender-<os>-<arch>
# and SHA256SUMS over all of them (sha256sum --check format).
#
# The plugin archive's name is what Helm 4 expects of a local archive: `helm plugin install`
# strips ".tgz" and a trailing "-<digits>.<...>" to find the folder inside (tierwall/). Its
# plugin.yaml names only its own platform, with the release as its SemVer version (v1.2.3 ->
# 1.2.3; a version that is no SemVer, such as a commit, becomes 0.0.0-dev-<it>).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="$("$ROOT/scripts/version.sh")"            # VERSION when set
COMMIT="$("$ROOT/scripts/version.sh" commit)"      # COMMIT when set
OUT="${1:-$ROOT/dist/release/$VERSION}"
read -r -a platforms <<< "${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"

log() { echo "release: $*" >&2; }
die() { log "$*"; exit 1; }

[[ "$VERSION" =~ ^[0-9A-Za-z._+-]+$ ]] || die "VERSION=$VERSION: use letters, digits and . _ + - only"

# The plugin version must be strict SemVer (Helm 4 rejects the plugin otherwise).
semver_re='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
plugin_version="${VERSION#v}"
if [[ ! "$plugin_version" =~ $semver_re ]]; then
  plugin_version="0.0.0-dev-$(printf '%s' "$VERSION" | tr -c '0-9A-Za-z-' '-')"
fi
plugin_archive_name() { echo "tierwall-$plugin_version-$1-$2.tgz"; }
# What Helm 4.3.1 makes of the archive name (installer.stripPluginName): it must be "tierwall",
# the folder in the archive. A pre-release such as 1.0.0-rc-2.1 would defeat it.
helm_folder_name() {
  local n="${1%.tgz}"
  if [[ "$n" =~ ^(.*)-[0-9]+\. ]]; then n="${BASH_REMATCH[1]}"; fi
  echo "$n"
}
[[ "$(helm_folder_name "$(plugin_archive_name linux amd64)")" == tierwall ]] ||
  die "plugin version $plugin_version gives an archive name Helm would not install as tierwall"

for p in "${platforms[@]}"; do
  [[ "$p" =~ ^[a-z0-9]+/[a-z0-9]+$ ]] || die "platform $p: want OS/ARCH, e.g. linux/amd64"
  grep -q "command: \${HELM_PLUGIN_DIR}/bin/tierwall-postrender-${p%/*}-${p#*/}\$" "$ROOT/postrender/plugin/plugin.yaml" ||
    die "postrender/plugin/plugin.yaml has no command for $p"
done

# Only ever replace a release folder (never wipe a directory given by mistake).
if [[ -d "$OUT" && -n "$(ls -A "$OUT")" && ! -f "$OUT/SHA256SUMS" ]]; then
  die "$OUT exists and is not a release folder; not replacing it"
fi
# Everything is built in a staging folder next to OUT and moved into place at the end, so
# that a failed run leaves the last release (or nothing) behind, never half of one.
mkdir -p "$(dirname "$OUT")"
stage="$(mktemp -d "$(dirname "$OUT")/.release.XXXXXX")"
chmod 0755 "$stage"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$stage"' EXIT

# Reproducible archives: file times from the last commit, no owner names.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}"
tar_flags=()
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch")
fi

# plugin_yaml OS ARCH: postrender/plugin/plugin.yaml with only that platform's command, the
# release's version, and a header of its own instead of the file's opening comment.
plugin_yaml() {
  echo "# tierwall $VERSION, Helm 4 post-renderer plugin for $1/$2. Install and use:"
  echo "#   helm plugin install $(plugin_archive_name "$1" "$2") --verify=false"
  echo "#   helm install REL CHART --post-renderer tierwall [--post-renderer-args=--config=tierwall.yaml]"
  awk -v os="$1" -v arch="$2" -v version="$plugin_version" '
    function flush() { if (block != "" && keep) printf "%s", block; block = ""; keep = 0 }
    !started && /^#/ { next }
    { started = 1 }
    /^version:/ { print "version: " version; next }
    /^  platformCommand:/ { print; inlist = 1; next }
    inlist && /^    - os:/ { flush(); block = $0 "\n"; keep = ($3 == os); next }
    inlist && /^      / { block = block $0 "\n"; if ($1 == "arch:" && $2 != arch) keep = 0; next }
    inlist { flush(); inlist = 0 }
    { print }
    END { flush() }
  ' "$ROOT/postrender/plugin/plugin.yaml"
}

build() { # build OS ARCH PACKAGE OUTPUT
  (cd "$ROOT" && CGO_ENABLED=0 GOOS="$1" GOARCH="$2" go build -trimpath \
    -ldflags "$(VERSION="$VERSION" COMMIT="$COMMIT" "$ROOT/scripts/version.sh" ldflags)" -o "$4" "$3")
}

for p in "${platforms[@]}"; do
  os="${p%/*}" arch="${p#*/}"
  log "building $os/$arch ($VERSION)"
  build "$os" "$arch" ./fn/tierwall "$stage/tierwall_${os}_${arch}"
  build "$os" "$arch" ./postrender/tierwall-postrender "$stage/tierwall-postrender_${os}_${arch}"

  dir="$work/$os-$arch/tierwall"
  mkdir -p "$dir/bin"
  plugin_yaml "$os" "$arch" > "$dir/plugin.yaml"
  [[ "$(grep -c -- '- os:' "$dir/plugin.yaml")" == 1 ]] || die "plugin.yaml for $p: expected one platform command"
  cp "$stage/tierwall-postrender_${os}_${arch}" "$dir/bin/tierwall-postrender-$os-$arch"
  chmod 0755 "$dir/bin/tierwall-postrender-$os-$arch"
  tar "${tar_flags[@]}" -C "$work/$os-$arch" -cf - tierwall | gzip -n -9 > "$stage/$(plugin_archive_name "$os" "$arch")"
done

(
  cd "$stage"
  files=(*)
  if command -v sha256sum >/dev/null; then sha256sum "${files[@]}"; else shasum -a 256 "${files[@]}"; fi > SHA256SUMS
)
rm -rf "$OUT"
mv "$stage" "$OUT"
log "wrote $OUT"
ls -1 "$OUT" >&2
