#!/usr/bin/env bash
# Renders one application for Flux, with tierwall's policies, in CI.
#
# Flux's kustomize-controller runs no KRM functions and HelmRelease post-renderers
# take only patches, so the policies are added before Flux sees the manifests:
# this script renders, tierwall adds, `tierwall check` vets, and the CI job commits
# the folder (commit/) or pushes it as an OCI artifact (oci/).
#
# Usage: render.sh SOURCE OUT_DIR NAMESPACE
#   SOURCE     a Helm chart folder (with Chart.yaml) or a kustomization folder
#   OUT_DIR    gets manifests.yaml: the rendered objects, unchanged, then tierwall's policies
#   NAMESPACE  where Flux applies them: objects without metadata.namespace (a chart's)
#              belong to it, and so do their policies. Give the Flux Kustomization of
#              OUT_DIR `targetNamespace: NAMESPACE` when SOURCE is a chart.
# Environment:
#   RELEASE          the Helm release name (default: the chart folder's name)
#   HELM_ARGS        more helm template flags, split on blanks (e.g. "--values prod.yaml")
#   TIERWALL_CONFIG  a TierWall config file for tierwall-postrender and tierwall check
# Needs helm or kustomize, tierwall-postrender and tierwall on PATH (the release binaries).
#
# On any failure nothing is written: an empty or half-written folder would make
# Flux prune the application.
# docs/pipelines.md, "Flux". Tested by pkg/internal/e2e TestFluxRecipes.
set -euo pipefail

die() { echo "render.sh: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || die "usage: render.sh SOURCE OUT_DIR NAMESPACE"
src="$1" out="$2" ns="$3"
[[ -d "$src" ]] || die "$src is not a folder"
[[ -n "$ns" ]] || die "NAMESPACE is empty"
if [[ -d "$out" ]]; then
  for f in "$out"/* "$out"/.[!.]*; do
    [[ -e "$f" && "$(basename "$f")" != manifests.yaml ]] &&
      die "$out holds $(basename "$f"): not a folder this script writes; not touching it"
  done
fi

tierwall_args=(--namespace "$ns")
if [[ -n "${TIERWALL_CONFIG:-}" ]]; then tierwall_args+=(--config "$TIERWALL_CONFIG"); fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ -f "$src/Chart.yaml" ]]; then
  read -r -a helm_args <<< "${HELM_ARGS:-}"
  helm template "${RELEASE:-$(basename "$src")}" "$src" --namespace "$ns" --include-crds \
    "${helm_args[@]}" > "$tmp/rendered.yaml"
elif [[ -f "$src/kustomization.yaml" || -f "$src/kustomization.yml" || -f "$src/Kustomization" ]]; then
  kustomize build "$src" > "$tmp/rendered.yaml"
else
  die "$src has no Chart.yaml and no kustomization.yaml"
fi
grep -q '^kind:' "$tmp/rendered.yaml" || die "$src rendered no object"

tierwall-postrender "${tierwall_args[@]}" < "$tmp/rendered.yaml" > "$tmp/manifests.yaml"
# Fails the job on pods left open or policies that cannot work.
tierwall check "${tierwall_args[@]}" "$tmp/manifests.yaml" >&2

mkdir -p "$out"
mv "$tmp/manifests.yaml" "$out/manifests.yaml"
echo "render.sh: $src -> $out/manifests.yaml (namespace $ns)" >&2
