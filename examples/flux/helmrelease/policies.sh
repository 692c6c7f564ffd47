#!/usr/bin/env bash
# Computes tierwall's policies for a Flux HelmRelease, in CI, from the HelmRelease itself: the
# chart and exact version it names, its inline values, its release name and namespace. Flux
# installs the chart natively; the policies ship as a Kustomization of their own.
#
# Usage: policies.sh HELMRELEASE HELMREPOSITORY OUT_DIR
#   HELMRELEASE     a file holding one helm.toolkit.fluxcd.io HelmRelease
#   HELMREPOSITORY  a file holding the source.toolkit.fluxcd.io HelmRepository it names
#   OUT_DIR         gets policies.yaml: only the objects tierwall generates (tierwall policies)
# Environment:
#   TIERWALL_CONFIG  a TierWall config file for tierwall policies and tierwall check
# Needs helm (3 or 4), tierwall on PATH (the release binary), and read access to the chart
# repository (for a private one: helm registry login, or helm repo add with credentials).
#
# Refused, because the policies would not match what Flux installs: spec.valuesFrom (values
# from the cluster), a version that is no exact version (a range, or none), spec.postRenderers,
# spec.chartRef, and charts from a GitRepository or Bucket. Nothing is written on any failure,
# and `tierwall check` of the render with the policies must pass.
# docs/pipelines.md, "Flux, option 3". Tested by pkg/internal/e2e TestFluxHelmReleaseRecipe.
set -euo pipefail

die() { echo "policies.sh: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || die "usage: policies.sh HELMRELEASE HELMREPOSITORY OUT_DIR"
hr="$1" repo="$2" out="$3"
[[ -f "$hr" ]] || die "$hr: no such file"
[[ -f "$repo" ]] || die "$repo: no such file"
if [[ -d "$out" ]]; then
  for f in "$out"/* "$out"/.[!.]*; do
    [[ -e "$f" && "$(basename "$f")" != policies.yaml ]] &&
      die "$out holds $(basename "$f"): not a folder this script writes; not touching it"
  done
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The HelmRelease and the HelmRepository are read by Helm itself, given as values files to a
# small chart whose templates print the fields (--set read=<which> picks the template): no
# YAML tool needed beyond helm.
reader="$tmp/reader"
mkdir -p "$reader/templates"
printf 'apiVersion: v2\nname: read-flux-objects\nversion: 0.0.0\n' > "$reader/Chart.yaml"
cat > "$reader/templates/helmrelease.yaml" <<'TEMPLATE'
{{- if eq .Values.read "helmrelease" -}}
{{- $hr := .Values -}}
{{- if or (not (hasPrefix "helm.toolkit.fluxcd.io/" ($hr.apiVersion | default ""))) (ne ($hr.kind | default "") "HelmRelease") }}{{ fail "not a helm.toolkit.fluxcd.io HelmRelease" }}{{ end -}}
{{- $s := $hr.spec | default dict -}}
{{- if $s.valuesFrom }}{{ fail "spec.valuesFrom: values from the cluster, which CI does not see; put the values in spec.values" }}{{ end -}}
{{- if $s.postRenderers }}{{ fail "spec.postRenderers: patches after the render, which the policies would not see" }}{{ end -}}
{{- if $s.chartRef }}{{ fail "spec.chartRef: not supported, name a HelmRepository chart in spec.chart" }}{{ end -}}
{{- $c := (($s.chart | default dict).spec) | default dict -}}
{{- $src := $c.sourceRef | default dict -}}
{{- if ne ($src.kind | default "") "HelmRepository" }}{{ fail "spec.chart.spec.sourceRef: a HelmRepository, please (charts from a GitRepository or Bucket are not rendered here)" }}{{ end -}}
{{- $v := toString ($c.version | default "") -}}
{{- if not (regexMatch "^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$" $v) }}{{ fail (printf "spec.chart.spec.version %q: an exact version, please (a range or none lets Flux install another chart than the one CI rendered)" $v) }}{{ end -}}
{{- $ns := $s.targetNamespace | default $hr.metadata.namespace | default "default" -}}
{{- $release := $s.releaseName | default (ternary (printf "%s-%s" $s.targetNamespace $hr.metadata.name) $hr.metadata.name (not (empty $s.targetNamespace))) -}}
chart: {{ $c.chart | quote }}
version: {{ $v | quote }}
repository: {{ $src.name | quote }}
repository_namespace: {{ $src.namespace | default $hr.metadata.namespace | quote }}
namespace: {{ $ns | quote }}
release: {{ $release | quote }}
{{ end -}}
TEMPLATE
cat > "$reader/templates/values.yaml" <<'TEMPLATE'
{{- if eq .Values.read "values" }}{{ with .Values.spec.values }}{{ toYaml . }}{{ end }}{{ end }}
TEMPLATE
cat > "$reader/templates/helmrepository.yaml" <<'TEMPLATE'
{{- if eq .Values.read "helmrepository" -}}
{{- $r := .Values -}}
{{- if or (not (hasPrefix "source.toolkit.fluxcd.io/" ($r.apiVersion | default ""))) (ne ($r.kind | default "") "HelmRepository") }}{{ fail "not a source.toolkit.fluxcd.io HelmRepository" }}{{ end -}}
name: {{ $r.metadata.name | quote }}
namespace: {{ $r.metadata.namespace | default "" | quote }}
type: {{ $r.spec.type | default "default" | quote }}
url: {{ $r.spec.url | quote }}
{{ end -}}
TEMPLATE

read_fields() { # read_fields TEMPLATE FILE PREFIX: the template's `key: "value"` lines as PREFIX<key>
  local line
  helm template read "$reader" --set "read=${1%.yaml}" --show-only "templates/$1" -f "$2" > "$tmp/fields" ||
    die "$2: see the error above"
  while IFS= read -r line; do
    [[ "$line" =~ ^([a-z_]+):\ \"(.*)\"$ ]] || continue
    printf -v "$3${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[2]}"
  done < "$tmp/fields"
}
read_fields helmrelease.yaml "$hr" hr_
read_fields helmrepository.yaml "$repo" repo_
helm template read "$reader" --set read=values --show-only templates/values.yaml -f "$hr" > "$tmp/values.yaml" 2>/dev/null ||
  : > "$tmp/values.yaml" # no spec.values: Helm shows no empty template

[[ "$repo_name" == "$hr_repository" && "$repo_namespace" == "$hr_repository_namespace" ]] ||
  die "$hr names HelmRepository $hr_repository_namespace/$hr_repository, $repo is $repo_namespace/$repo_name"
[[ "$hr_chart" =~ ^[A-Za-z0-9._-]+$ ]] || die "spec.chart.spec.chart $hr_chart: a chart name, please"

# The render helm-controller makes: the chart at that version, the release name, the
# namespace, the inline values.
render=(helm template "$hr_release" --version "$hr_version" --namespace "$hr_namespace" -f "$tmp/values.yaml")
if [[ "$repo_type" == oci ]]; then
  render+=("${repo_url%/}/$hr_chart")
else
  render+=("$hr_chart" --repo "$repo_url")
fi
"${render[@]}" > "$tmp/rendered.yaml"
grep -q '^kind:' "$tmp/rendered.yaml" || die "$hr_chart $hr_version rendered no object"

args=(--namespace "$hr_namespace")
if [[ -n "${TIERWALL_CONFIG:-}" ]]; then args+=(--config "$TIERWALL_CONFIG"); fi
tierwall policies "${args[@]}" --release "$hr_release" "$tmp/rendered.yaml" > "$tmp/policies.yaml"
# Fails the job on pods left open or policies that cannot work.
tierwall check "${args[@]}" "$tmp/rendered.yaml" "$tmp/policies.yaml" >&2

mkdir -p "$out"
mv "$tmp/policies.yaml" "$out/policies.yaml"
echo "policies.sh: $hr_chart $hr_version as $hr_release in $hr_namespace -> $out/policies.yaml" >&2
