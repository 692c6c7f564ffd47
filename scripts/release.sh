#!/usr/bin/env bash
# Builds tierwall's release artifacts into one folder, ready to upload as a release.
#
# Usage: scripts/release.sh [OUT_DIR]        (make release; default dist/release/<version>)
#   VERSION      the version stamped into the binaries (default: scripts/version.sh: the tag,
#                or 0.0.0-dev+<commit> for a tree without one)
#   COMMIT       the commit stamped into them (default: scripts/version.sh commit)
#   PLATFORMS    OS/ARCH list (default: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
#   SIGNING_KEY  a GnuPG key (fingerprint, e-mail or name; GNUPGHOME as usual) to sign with.
#                Unset: an unsigned development release (Helm 4 then installs the plugin
#                only with --verify=false), said on stderr.
#   RELEASE_URL  where the folder will be downloadable, for the krew manifest (default:
#                https://github.com/tierwall/tierwall/releases/download/<VERSION>)
#   IMAGES       1 (default): also the KRM function image of each linux platform, as an
#                archive for `docker load` (needs podman or Docker: scripts/image.sh); 0: none
#   HELM4        a Helm 4 binary: when set, every signed plugin archive is checked with
#                `helm plugin verify` before the release is written
#
# OUT_DIR gets, for each platform OS/ARCH:
#   tierwall_<os>_<arch>                          the KRM function and CLI (tierwall version)
#   tierwall-postrender_<os>_<arch>               the Helm 3 post-renderer (--version)
#   tierwall-<plugin version>-<os>-<arch>.tgz     the Helm 4 plugin: tierwall/plugin.yaml and
#                                                 tierwall/bin/tierwall-postrender-<os>-<arch>
#   tierwall-<plugin version>-<os>-<arch>.tgz.prov   its signature (signed releases)
#   kubectl-tierwall_<os>_<arch>.tar.gz           tierwall and LICENSE, for krew
#   tierwall-image_linux_<arch>.tar.gz            the KRM function image (IMAGES=1, linux only)
# and once:
#   tierwall.spdx.json            the software bill of materials (SPDX 2.3): every Go module of
#                                 every binary, as `go version -m` lists them (scripts/sbom)
#   tierwall.krew.yaml            the krew manifest (scripts/krew/tierwall.yaml filled in)
#   tierwall-release-key.asc      the public key of SIGNING_KEY (signed releases)
#   SHA256SUMS                    the SHA-256 of every file above (sha256sum --check format)
#   SHA256SUMS.asc                its detached signature (signed releases)
#
# The plugin archive's name is what Helm 4 expects of an archive: `helm plugin install`
# strips ".tgz" and a trailing "-<digits>.<...>" to find the folder inside (tierwall/), and
# verifies the archive against "<archive>.prov", whose signed checksum names the archive's
# own file name. `helm plugin package --sign` can only name an archive <name>-<version>.tgz,
# one per version, so this script writes the same provenance (the plugin.yaml, "...", and
# "files: {<archive>: sha256:<sum>}", clear-signed) with gpg for each platform's archive.
# Its plugin.yaml names only its own platform, with the release as its SemVer version (v1.2.3
# -> 1.2.3; a version that is no SemVer, such as a commit, becomes 0.0.0-dev-<it>).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="$("$ROOT/scripts/version.sh")"            # VERSION when set
COMMIT="$("$ROOT/scripts/version.sh" commit)"      # COMMIT when set
OUT="${1:-$ROOT/dist/release/$VERSION}"
read -r -a platforms <<< "${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
RELEASE_URL="${RELEASE_URL:-https://github.com/tierwall/tierwall/releases/download/$VERSION}"
IMAGES="${IMAGES:-1}"

log() { echo "release: $*" >&2; }
die() { log "$*"; exit 1; }

[[ "$VERSION" =~ ^[0-9A-Za-z._+-]+$ ]] || die "VERSION=$VERSION: use letters, digits and . _ + - only"
[[ "$IMAGES" == 0 || "$IMAGES" == 1 ]] || die "IMAGES=$IMAGES: 0 or 1"

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

if [[ -n "${SIGNING_KEY:-}" ]]; then
  command -v gpg >/dev/null || die "SIGNING_KEY is set but gpg is not installed"
  gpg --batch --list-secret-keys "$SIGNING_KEY" >/dev/null 2>&1 || die "SIGNING_KEY=$SIGNING_KEY: no such secret key (GNUPGHOME=${GNUPGHOME:-~/.gnupg})"
else
  log "SIGNING_KEY is not set: an unsigned development release (helm plugin install needs --verify=false)"
fi
if [[ "$IMAGES" == 1 ]]; then
  # Fail now rather than after the builds: the image archives need a container engine.
  engine="${CONTAINER_ENGINE:-}"
  if [[ -z "$engine" ]]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
    elif command -v podman >/dev/null; then engine=podman
    else die "IMAGES=1 needs podman or Docker (or set IMAGES=0 for a release without the image archives)"
    fi
  fi
fi

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
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$epoch" +%Y-%m-%dT%H:%M:%SZ)"
tar_flags=()
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch")
fi
targz() { # targz ARCHIVE DIR ENTRY...
  local archive="$1" dir="$2"; shift 2
  tar "${tar_flags[@]}" -C "$dir" -cf - "$@" | gzip -n -9 > "$archive"
}

# plugin_yaml OS ARCH: postrender/plugin/plugin.yaml with only that platform's command, the
# release's version, and a header of its own instead of the file's opening comment.
plugin_yaml() {
  local verify="--keyring tierwall-release-key.asc"
  [[ -n "${SIGNING_KEY:-}" ]] || verify="--verify=false   (an unsigned development release)"
  echo "# tierwall $VERSION, Helm 4 post-renderer plugin for $1/$2. Install and use:"
  echo "#   helm plugin install $(plugin_archive_name "$1" "$2") $verify"
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

# sign_plugin ARCHIVE: ARCHIVE.prov, the provenance Helm 4 verifies (pkg/provenance): the
# plugin's metadata, the YAML end marker "...", then the archive's SHA-256 under its file
# name, clear-signed with SHA-512 as `helm plugin package --sign` does.
sign_plugin() {
  local archive="$1" name sum
  name="$(basename "$archive")"
  sum="$(sha256 "$archive")"
  {
    grep -v '^#' "$2"
    printf '\n...\nfiles:\n  %s: sha256:%s\n' "$name" "$sum"
  } > "$work/provenance"
  gpg --batch --yes --quiet --local-user "$SIGNING_KEY" --digest-algo SHA512 \
    --clearsign --output "$archive.prov" "$work/provenance"
}

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

build() { # build OS ARCH PACKAGE OUTPUT
  (cd "$ROOT" && CGO_ENABLED=0 GOOS="$1" GOARCH="$2" go build -trimpath \
    -ldflags "$(VERSION="$VERSION" COMMIT="$COMMIT" "$ROOT/scripts/version.sh" ldflags)" -o "$4" "$3")
}

krew_platforms=""
linux_arches=()
for p in "${platforms[@]}"; do
  os="${p%/*}" arch="${p#*/}"
  log "building $os/$arch ($VERSION)"
  build "$os" "$arch" ./fn/tierwall "$stage/tierwall_${os}_${arch}"
  build "$os" "$arch" ./postrender/tierwall-postrender "$stage/tierwall-postrender_${os}_${arch}"
  [[ "$os" == linux ]] && linux_arches+=("$arch")

  # The Helm 4 plugin.
  dir="$work/$os-$arch/tierwall"
  mkdir -p "$dir/bin"
  plugin_yaml "$os" "$arch" > "$dir/plugin.yaml"
  [[ "$(grep -c -- '- os:' "$dir/plugin.yaml")" == 1 ]] || die "plugin.yaml for $p: expected one platform command"
  cp "$stage/tierwall-postrender_${os}_${arch}" "$dir/bin/tierwall-postrender-$os-$arch"
  chmod 0755 "$dir/bin/tierwall-postrender-$os-$arch"
  archive="$stage/$(plugin_archive_name "$os" "$arch")"
  targz "$archive" "$work/$os-$arch" tierwall
  if [[ -n "${SIGNING_KEY:-}" ]]; then
    sign_plugin "$archive" "$dir/plugin.yaml"
  fi

  # The krew archive: kubectl runs tierwall as kubectl-tierwall.
  kdir="$work/krew-$os-$arch"
  mkdir -p "$kdir"
  cp "$stage/tierwall_${os}_${arch}" "$kdir/tierwall"
  cp "$ROOT/LICENSE" "$kdir/LICENSE"
  chmod 0755 "$kdir/tierwall"
  chmod 0644 "$kdir/LICENSE"
  karchive="kubectl-tierwall_${os}_${arch}.tar.gz"
  targz "$stage/$karchive" "$kdir" LICENSE tierwall
  krew_platforms+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $RELEASE_URL/$karchive
    sha256: $(sha256 "$stage/$karchive")
    bin: tierwall
"
done

# The KRM function image of each linux platform, from the binaries above, as a docker
# archive (docker load and podman load read it), named tierwall:<version>.
if [[ "$IMAGES" == 1 ]]; then
  tag="$(printf '%s' "$VERSION" | tr -c '0-9A-Za-z_.-' '-')"
  for arch in "${linux_arches[@]}"; do
    image="localhost/tierwall:$tag"
    log "image $image for linux/$arch ($engine)"
    CONTAINER_ENGINE="$engine" BINARIES="$stage" PLATFORMS="linux/$arch" VERSION="$VERSION" COMMIT="$COMMIT" \
      "$ROOT/scripts/image.sh" "$image" >/dev/null 2>"$work/image.log" || { cat "$work/image.log" >&2; die "scripts/image.sh failed"; }
    "$engine" save --format docker-archive -o "$work/image.tar" "$image" >&2 2>/dev/null ||
      "$engine" save -o "$work/image.tar" "$image" >&2
    gzip -n -9 < "$work/image.tar" > "$stage/tierwall-image_linux_$arch.tar.gz"
    rm -f "$work/image.tar"
    "$engine" rmi "$image" >/dev/null 2>&1 || true # the archive is the release's; make image builds one to push
  done
fi

# The software bill of materials: every module every binary was built from.
bins=()
for p in "${platforms[@]}"; do
  bins+=("$stage/tierwall_${p%/*}_${p#*/}" "$stage/tierwall-postrender_${p%/*}_${p#*/}")
done
(cd "$ROOT" && go run ./scripts/sbom -version "$VERSION" -created "$created" "${bins[@]}") > "$stage/tierwall.spdx.json"

# The krew manifest: the template with the version (krew wants v + SemVer) and the archives.
# (Without the template's opening comment, which is about the template.)
krew="$(awk 'started || !/^#/ { started = 1; print }' "$ROOT/scripts/krew/tierwall.yaml")"
krew="${krew//'${VERSION}'/v$plugin_version}"
krew="${krew//'${PLATFORMS}'/${krew_platforms%$'\n'}}"
printf '%s\n' "$krew" > "$stage/tierwall.krew.yaml"
grep -q '\${' "$stage/tierwall.krew.yaml" && die "scripts/krew/tierwall.yaml: a placeholder is left over"

if [[ -n "${SIGNING_KEY:-}" ]]; then
  gpg --batch --yes --quiet --armor --export --output "$stage/tierwall-release-key.asc" "$SIGNING_KEY"
  if [[ -n "${HELM4:-}" ]]; then
    for f in "$stage"/tierwall-*.tgz; do
      "$HELM4" plugin verify "$f" --keyring "$stage/tierwall-release-key.asc" >/dev/null ||
        die "helm plugin verify $(basename "$f") failed"
    done
    log "helm plugin verify: every plugin archive verifies"
  fi
fi

(
  cd "$stage"
  files=(*)
  if command -v sha256sum >/dev/null; then sha256sum "${files[@]}"; else shasum -a 256 "${files[@]}"; fi > SHA256SUMS
)
if [[ -n "${SIGNING_KEY:-}" ]]; then
  gpg --batch --yes --quiet --local-user "$SIGNING_KEY" --armor --detach-sign --output "$stage/SHA256SUMS.asc" "$stage/SHA256SUMS"
fi
rm -rf "$OUT"
mv "$stage" "$OUT"
log "wrote $OUT"
ls -1 "$OUT" >&2
