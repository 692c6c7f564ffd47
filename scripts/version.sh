#!/usr/bin/env bash
# Prints what a build stamps into tierwall's binaries (pkg/version), from git:
#
#   scripts/version.sh          the version: the tag (git describe --tags --dirty),
#                               or 0.0.0-dev+<commit> for a tree without a tag
#   scripts/version.sh commit   the abbreviated commit, -dirty for a modified tree
#   scripts/version.sh ldflags  the -ldflags of a release build, with both
#
# VERSION and COMMIT, when set, are used as given. Outside a git checkout the
# commit is empty and the version 0.0.0-dev.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
commit="${COMMIT:-$(git -C "$ROOT" describe --always --dirty --abbrev=7 --exclude='*' 2>/dev/null || true)}"
version="${VERSION:-}"
if [[ -z "$version" ]]; then
  version="$(git -C "$ROOT" describe --tags --dirty 2>/dev/null || true)"
  [[ -n "$version" ]] || version="0.0.0-dev${commit:++$commit}"
fi

case "${1:-version}" in
  version) echo "$version" ;;
  commit) echo "$commit" ;;
  ldflags) echo "-s -w -X github.com/tierwall/tierwall/pkg/version.Version=$version -X github.com/tierwall/tierwall/pkg/version.Commit=$commit" ;;
  *) echo "usage: scripts/version.sh [version|commit|ldflags]" >&2; exit 2 ;;
esac
