#!/usr/bin/env bash
# Whole-process benchmark: tierwall against a do-nothing kyaml function on the
# same synthetic input, alternating, several runs each; prints the medians of
# wall time and peak memory and their ratios, and writes them to a file.
#
#   scripts/bench.sh [-runs N] [-namespaces N] [-apps N] [-out FILE] [-quick]
#
# Targets (issue "Performance"): post-renderer <= 0.25x wall and <= 0.1x
# memory of the yardstick on ~9,000 objects; KRM function <= 0.5x wall and
# <= 0.25x memory; time per object at 30,000 objects within 1.5x of that at
# 1,000; tierwall report under 2 s.
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
go build -trimpath -o "$W/gen" "$ROOT/pkg/bench/gen"
go build -trimpath -o "$W/noop" "$ROOT/pkg/bench/noop"
go build -trimpath -o "$W/tierwall" "$ROOT/fn"
go build -trimpath -o "$W/tierwall-postrender" "$ROOT/postrender"
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0) ? a / b : 0}'; }

gen() { "$W/gen" -namespaces "$1" -apps "$2" ${3:+-resourcelist} > "$4"; }
objects=$((NS * APPS * 9))
gen "$NS" "$APPS" "" "$W/stream.yaml"
gen "$NS" "$APPS" rl "$W/rl.yaml"

for ((i = 1; i <= RUNS; i++)); do
  measure noop-stream "$W/stream.yaml" "$W/noop" -stream
  measure postrender "$W/stream.yaml" "$W/tierwall-postrender"
  measure noop-rl "$W/rl.yaml" "$W/noop"
  measure function "$W/rl.yaml" "$W/tierwall"
  measure report "$W/stream.yaml" "$W/tierwall" report
done

# Linear growth: time per object at 1,000 and 30,000 objects (post-renderer).
if [[ $QUICK == 0 ]]; then
  gen 10 11 "" "$W/small.yaml"    # 990 objects
  gen 100 34 "" "$W/large.yaml"   # 30,600 objects
  for ((i = 1; i <= RUNS; i++)); do
    measure small "$W/small.yaml" "$W/tierwall-postrender"
    measure large "$W/large.yaml" "$W/tierwall-postrender"
  done
fi

{
  echo "tierwall benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $RUNS runs each (medians)"
  echo "input: $objects objects ($NS namespaces x $APPS apps x 3 tiers x Deployment+Service+ConfigMap), stream $(wc -c < "$W/stream.yaml") bytes"
  printf '%-22s %10s %12s\n' command wall_s peak_MB
  for n in noop-stream postrender noop-rl function report; do
    printf '%-22s %10s %12.1f\n' "$n" "$(median "$W/$n" 1)" "$(awk -v k="$(median "$W/$n" 2)" 'BEGIN{print k/1024}')"
  done
  pw=$(ratio "$(median "$W/postrender" 1)" "$(median "$W/noop-stream" 1)")
  pm=$(ratio "$(median "$W/postrender" 2)" "$(median "$W/noop-stream" 2)")
  fw=$(ratio "$(median "$W/function" 1)" "$(median "$W/noop-rl" 1)")
  fm=$(ratio "$(median "$W/function" 2)" "$(median "$W/noop-rl" 2)")
  echo "post-renderer / do-nothing kyaml: wall ${pw}x (target <= 0.25), memory ${pm}x (target <= 0.1)"
  echo "KRM function / do-nothing kyaml:  wall ${fw}x (target <= 0.5), memory ${fm}x (target <= 0.25)"
  echo "tierwall report: $(median "$W/report" 1) s (target < 2)"
  if [[ $QUICK == 0 ]]; then
    s=$(median "$W/small" 1); l=$(median "$W/large" 1)
    echo "growth: $(awk -v s="$s" -v l="$l" 'BEGIN {printf "%.2f", (l / 30600) / (s / 990)}')x time per object at 30,600 vs 990 objects (target <= 1.5): ${s} s and ${l} s"
  fi
} | tee "$OUT"
