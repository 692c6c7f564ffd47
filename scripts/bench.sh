#!/usr/bin/env bash
# Whole-process benchmark: tierwall against a do-nothing kyaml function on the
# same synthetic input, alternating, several runs each; prints the medians of
# wall time and peak memory and their ratios, and writes them to a file. Two
# data sets, realistic first (pkg/bench Realistic: modelled on Helm charts,
# with the references tierwall infers allows from) then simple (pkg/bench
# Stream: a Deployment, a Service and a ConfigMap per tier, nothing between
# them), both of namespaces x apps.
#
#   scripts/bench.sh [-runs N] [-namespaces N] [-apps N] [-out FILE] [-quick]
#
# Targets (issue "Performance"): post-renderer <= 0.25x wall and <= 0.1x
# memory of the yardstick on ~9,000 objects; KRM function <= 0.5x wall and
# <= 0.25x memory; time per object at 30,000 objects within 1.5x of that at
# 3,000 (realistic set); tierwall report under 2 s on 3,000 workloads
# (realistic set); tierwall diff under 2 s on two renders of 3,000 workloads
# (the realistic set after the post-renderer, and the same with one namespace
# more).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=5 NS=50 APPS=20 OUT="$ROOT/dist/bench/results.txt" QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -runs) RUNS=$2; shift 2 ;;
    -namespaces) NS=$2; shift 2 ;;
    -apps) APPS=$2; shift 2 ;;
    -out) OUT=$2; shift 2 ;;
    -quick) QUICK=1; RUNS=1; NS=5; APPS=4; shift ;;
    *) echo "bench: unknown flag $1" >&2; exit 2 ;;
  esac
done
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
mkdir -p "$(dirname "$OUT")"
export CGO_ENABLED=0
go build -trimpath -o "$W/gen" "$ROOT/scripts/bench/gen"
go build -trimpath -o "$W/noop" "$ROOT/scripts/bench/noop"
go build -trimpath -o "$W/tierwall" "$ROOT/fn/tierwall"
go build -trimpath -o "$W/tierwall-postrender" "$ROOT/postrender/tierwall-postrender"
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

# measure NAME INPUT CMD... : one run, appends "wall_seconds peak_kb" to $W/NAME
measure() {
  local name=$1 input=$2; shift 2
  if ! $TIME -f "%e %M" -o "$W/t" "$@" < "$input" > "$W/out" 2> "$W/err"; then
    echo "bench: $name failed:" >&2; tail -5 "$W/err" >&2; exit 1
  fi
  cat "$W/t" >> "$W/$name"
}
# median FILE COLUMN
median() { sort -g -k"$2","$2" "$1" | awk -v c="$2" '{a[NR]=$c} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# spread FILE: the fastest and slowest wall time of the runs, "min-max".
spread() { sort -g -k1,1 "$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }

SETS="realistic simple"
# gen SET NAMESPACES APPS [rl] FILE
gen() { "$W/gen" -set "$1" -namespaces "$2" -apps "$3" ${4:+-resourcelist} > "$5"; }
for s in $SETS; do
  gen "$s" "$NS" "$APPS" "" "$W/$s-stream.yaml"
  gen "$s" "$NS" "$APPS" rl "$W/$s-rl.yaml"
done
workloads() { grep -cE '^kind: (Deployment|StatefulSet|DaemonSet|ReplicaSet|Job|CronJob|Pod)$' "$1"; }
# tierwall diff compares two renders with their policies: the realistic set
# post-rendered, and the same with one namespace more.
"$W/tierwall-postrender" < "$W/realistic-stream.yaml" > "$W/diff-old.yaml" 2> /dev/null
gen realistic "$((NS + 1))" "$APPS" "" "$W/diff-new-input.yaml"
"$W/tierwall-postrender" < "$W/diff-new-input.yaml" > "$W/diff-new.yaml" 2> /dev/null

for ((i = 1; i <= RUNS; i++)); do
  for s in $SETS; do
    measure "$s-noop-stream" "$W/$s-stream.yaml" "$W/noop" -stream
    measure "$s-postrender" "$W/$s-stream.yaml" "$W/tierwall-postrender"
    measure "$s-noop-rl" "$W/$s-rl.yaml" "$W/noop"
    measure "$s-function" "$W/$s-rl.yaml" "$W/tierwall"
  done
  measure realistic-report "$W/realistic-stream.yaml" "$W/tierwall" report
  measure realistic-diff /dev/null "$W/tierwall" diff "$W/diff-old.yaml" "$W/diff-new.yaml"
done

# Linear growth on the realistic set: time per object at 3,010 and 30,037
# objects (post-renderer; 15 and 150 namespaces of 22 apps).
if [[ $QUICK == 0 ]]; then
  gen realistic 15 22 "" "$W/small.yaml"
  gen realistic 150 22 "" "$W/large.yaml"
  small_n=$("$W/gen" -count -namespaces 15 -apps 22) large_n=$("$W/gen" -count -namespaces 150 -apps 22)
  for ((i = 1; i <= RUNS; i++)); do
    measure small "$W/small.yaml" "$W/tierwall-postrender"
    measure large "$W/large.yaml" "$W/tierwall-postrender"
  done
fi

{
  echo "tierwall benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $RUNS runs each (medians)"
  for s in $SETS; do
    echo
    case $s in
      realistic) shape="modelled on Helm charts: 3 tiers per app with env and ConfigMap references, Ingresses, ServiceMonitors, RBAC, a webhook per namespace, hooks, ingress-nginx" ;;
      simple) shape="3 tiers per app, each Deployment+Service+ConfigMap, no references" ;;
    esac
    echo "== $s set: $("$W/gen" -set "$s" -count -namespaces "$NS" -apps "$APPS") objects, $(workloads "$W/$s-stream.yaml") workloads ($NS namespaces x $APPS apps, $shape)"
    echo "   stream $(wc -c < "$W/$s-stream.yaml") bytes, ResourceList $(wc -c < "$W/$s-rl.yaml") bytes"
    printf '%-22s %10s %14s %12s\n' command wall_s wall_spread_s peak_MB
    names="noop-stream postrender noop-rl function"
    [[ $s == realistic ]] && names="$names report diff"
    for n in $names; do
      printf '%-22s %10s %14s %12.1f\n' "$n" "$(median "$W/$s-$n" 1)" "$(spread "$W/$s-$n")" "$(awk -v k="$(median "$W/$s-$n" 2)" 'BEGIN{print k/1024}')"
    done
    pw=$(ratio "$(median "$W/$s-postrender" 1)" "$(median "$W/$s-noop-stream" 1)")
    pm=$(ratio "$(median "$W/$s-postrender" 2)" "$(median "$W/$s-noop-stream" 2)")
    fw=$(ratio "$(median "$W/$s-function" 1)" "$(median "$W/$s-noop-rl" 1)")
    fm=$(ratio "$(median "$W/$s-function" 2)" "$(median "$W/$s-noop-rl" 2)")
    # Issue 19's targets hold on the realistic set; the simple set keeps the older ones.
    if [[ $s == realistic ]]; then tp="0.2 0.1" tf="0.25 0.12"; else tp="0.25 0.1" tf="0.5 0.25"; fi
    read -r tpw tpm <<< "$tp"; read -r tfw tfm <<< "$tf"
    echo "$s: post-renderer / do-nothing kyaml: wall ${pw}x (target <= $tpw), memory ${pm}x (target <= $tpm)"
    echo "$s: KRM function / do-nothing kyaml:  wall ${fw}x (target <= $tfw), memory ${fm}x (target <= $tfm)"
    if [[ $s == realistic ]]; then
      echo "$s: tierwall report: $(median "$W/realistic-report" 1) s on $(workloads "$W/realistic-stream.yaml") workloads (target < 2)"
      echo "$s: tierwall diff: $(median "$W/realistic-diff" 1) s on two renders of $(workloads "$W/diff-old.yaml") and $(workloads "$W/diff-new.yaml") workloads (target < 2)"
      if [[ $QUICK == 0 ]]; then
        sm=$(median "$W/small" 1); l=$(median "$W/large" 1)
        echo "$s: growth: $(awk -v s="$sm" -v l="$l" -v sn="$small_n" -v ln="$large_n" 'BEGIN {printf "%.2f", (l / ln) / (s / sn)}')x time per object at $large_n vs $small_n objects (target <= 1.3): ${sm} s and ${l} s"
      fi
    fi
  done
} | tee "$OUT"
