#!/usr/bin/env bash
# A real, throw-away Kubernetes API server for the tests: kube-apiserver and etcd built from the
# Go module proxy, run on 127.0.0.1 only, so generated objects can go through
# `kubectl apply --dry-run=server`.
#
# Usage:
#   scripts/apiserver.sh build        build .bin/kube-apiserver and .bin/etcd and write Cilium's
#                                     policy CRDs to .bin/cilium-crds/ (cached, skipped when the
#                                     pinned version is there; 11-18 minutes cold)
#   scripts/apiserver.sh start DIR    start etcd and kube-apiserver with state, logs, PID files
#                                     and DIR/kubeconfig under DIR; returns once /readyz is ok
#   scripts/apiserver.sh stop DIR     stop what start DIR started, by PID (idempotent)
#
# Environment: KUBE_APISERVER and ETCD name the binaries (default .bin/), TIERWALL_BIN_DIR the
# tools folder, APISERVER_OWNER_PID a process whose exit stops the server even when nobody calls
# stop (the Go test passes its own PID: a test binary killed by -timeout runs no cleanup),
# APISERVER_READY_TIMEOUT the seconds to wait for /readyz (default 180).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${TIERWALL_BIN_DIR:-$ROOT/.bin}"
SELF="$ROOT/scripts/apiserver.sh"

KUBERNETES_VERSION=v1.35.4
# The staging modules (k8s.io/api, k8s.io/apiserver, ...) are published as v0.<minor>.<patch>.
STAGING_VERSION=v0.35.4
ETCD_VERSION=v3.6.16
# The CRDs of the cilium.io/v2 policies the Cilium flavour emits come from Cilium's Go module.
CILIUM_VERSION=v1.20.2

# CGO off: static, faster to build, no compiler needed.
export CGO_ENABLED=0

log() { echo "apiserver: $*" >&2; }
die() { log "$*"; exit 1; }

stamp_ok() { [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]; }

# ---------------------------------------------------------------------------------------------
# build

# k8s.io/kubernetes points its staging modules at ./staging/src/... with replace directives,
# which a dependent module does not inherit, and requires them at v0.0.0. A scratch module
# that requires k8s.io/kubernetes and replaces each staging module with its published version
# builds it; the list of staging modules comes from kubernetes' own go.mod.
build_kube_apiserver() {
  if stamp_ok kube-apiserver "$KUBERNETES_VERSION"; then return; fi
  log "building kube-apiserver $KUBERNETES_VERSION (11-18 minutes cold on 2 busy cores)"
  local tmp; tmp="$(mktemp -d)"
  (
    cd "$tmp"
    go mod init scratch >/dev/null 2>&1
    local gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    [[ -f "$gomod" ]] || die "could not download the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
    local staging
    staging="$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod")"
    [[ -n "$staging" ]] || die "no staging modules found in $gomod"
    go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
    local m
    for m in $staging; do go mod edit -replace "$m=$m@$STAGING_VERSION"; done
    # -mod=mod lets the build fill go.sum and the requirements of the scratch module.
    local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
    go build -mod=mod -trimpath -o "$tmp/kube-apiserver" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
        -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor \
        -X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$tmp/kube-apiserver" "$BIN/kube-apiserver"; rm -rf "$tmp"
  echo "$KUBERNETES_VERSION" > "$BIN/.kube-apiserver.version"
}

# etcd's own main module (go.etcd.io/etcd/v3) has replace directives, so `go install` refuses
# it; a scratch main calling etcdmain.Main is the same program.
build_etcd() {
  if stamp_ok etcd "$ETCD_VERSION"; then return; fi
  log "building etcd $ETCD_VERSION (about 2 minutes cold)"
  local tmp; tmp="$(mktemp -d)"
  (
    cd "$tmp"
    go mod init scratch >/dev/null 2>&1
    cat > main.go <<'EOF'
// Command etcd is etcd's server, built from go.etcd.io/etcd/server/v3.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
    go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    go build -mod=mod -trimpath -ldflags "-s -w" -o "$tmp/etcd" .
  )
  mv "$tmp/etcd" "$BIN/etcd"; rm -rf "$tmp"
  echo "$ETCD_VERSION" > "$BIN/.etcd.version"
}

# Cilium's CustomResourceDefinitions for the policies tierwall's Cilium flavour emits, written
# into a folder by a scratch program importing the Go package that embeds them
# (github.com/cilium/cilium/pkg/k8s/apis/cilium.io/client/crds/v2, which imports only
# "embed": nothing else of Cilium is compiled).
build_cilium_crds() {
  if stamp_ok cilium-crds "$CILIUM_VERSION"; then return; fi
  log "writing Cilium $CILIUM_VERSION CRDs"
  local tmp; tmp="$(mktemp -d)"
  (
    cd "$tmp"
    go mod init scratch >/dev/null 2>&1
    cat > main.go <<'EOF'
// Command cilium-crds writes the CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy
// CRDs embedded in Cilium's Go module into the folder named by its argument.
package main

import (
	"log"
	"os"
	"path/filepath"

	crds "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/client/crds/v2"
)

func main() {
	for _, name := range []string{"ciliumnetworkpolicies.yaml", "ciliumclusterwidenetworkpolicies.yaml"} {
		data, err := crds.EmbedFS.ReadFile(name)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(os.Args[1], name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
EOF
    go mod edit -require "github.com/cilium/cilium@$CILIUM_VERSION"
    mkdir out
    go run -mod=mod . out
  )
  rm -rf "$BIN/cilium-crds"; mv "$tmp/out" "$BIN/cilium-crds"; rm -rf "$tmp"
  echo "$CILIUM_VERSION" > "$BIN/.cilium-crds.version"
}

cmd_build() {
  mkdir -p "$BIN"
  build_etcd
  build_kube_apiserver
  build_cilium_crds
}

# ---------------------------------------------------------------------------------------------
# start / stop

# free_port prints a TCP port nothing on this machine listens on or connects from. Below the
# Linux ephemeral range (32768-60999) so outgoing connections do not take it meanwhile; a port
# taken between this check and the bind is caught by start's retry.
free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$((20000 + RANDOM % 12000))
    if command -v ss >/dev/null; then
      ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . || { echo "$p"; return; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"; return
    fi
  done
  die "found no free port"
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() { [[ -r /proc/$1/stat ]] && [[ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]]; }

# wait_ready NAME PID URL [CURL-ARGS...]: polls URL until it answers 2xx (0), the process dies
# (1) or APISERVER_READY_TIMEOUT passes (2).
wait_ready() {
  local name=$1 pid=$2 url=$3; shift 3
  local limit=${APISERVER_READY_TIMEOUT:-180}
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    alive "$pid" || { log "$name exited during start-up"; return 1; }
    if curl -fsS --max-time 5 "$@" "$url" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$name is not ready after ${limit}s ($url)"
  return 2
}

log_tail() { if [[ -f $1 ]]; then log "last lines of $1:"; tail -n 30 "$1" | sed 's/^/  /' >&2; fi; }

# make_pki DIR: a throw-away CA, a serving certificate for 127.0.0.1/localhost signed by it,
# the service-account key pair and a static admin token. Valid one day; nothing is reused.
make_pki() {
  local pki=$1/pki
  mkdir -p "$pki"; chmod 700 "$pki"
  (
    cd "$pki"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
      -subj "/CN=tierwall-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    echo "$(openssl rand -hex 32),tierwall-admin,tierwall-admin,system:masters" > tokens.csv
  )
}

write_kubeconfig() { # DIR PORT TOKEN
  local dir=$1 port=$2 token=$3
  (
    umask 077
    printf '%s\n' \
      "apiVersion: v1" \
      "kind: Config" \
      "clusters:" \
      "- name: tierwall-test" \
      "  cluster:" \
      "    server: https://127.0.0.1:$port" \
      "    certificate-authority: $dir/pki/ca.crt" \
      "users:" \
      "- name: tierwall-admin" \
      "  user:" \
      "    token: $token" \
      "contexts:" \
      "- name: tierwall-test" \
      "  context:" \
      "    cluster: tierwall-test" \
      "    user: tierwall-admin" \
      "current-context: tierwall-test" > "$dir/kubeconfig"
  )
}

# launch NAME LOG PORT-VAR -- COMMAND...: runs COMMAND in the background with its output in LOG
# and its PID in DIR/NAME.pid; every descriptor is redirected so a caller reading our output
# (the Go test) is not held open by the server.
launch() {
  local dir=$1 name=$2; shift 2
  "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo "$!" > "$dir/$name.pid"
}

cmd_start() {
  local dir=${1:?usage: scripts/apiserver.sh start DIR}
  mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
  local apiserver=${KUBE_APISERVER:-$BIN/kube-apiserver} etcd=${ETCD:-$BIN/etcd}
  [[ -x $apiserver ]] || die "kube-apiserver not found at $apiserver (scripts/apiserver.sh build)"
  [[ -x $etcd ]] || die "etcd not found at $etcd (scripts/apiserver.sh build)"
  local c; for c in openssl curl; do command -v "$c" >/dev/null || die "$c is needed"; done
  [[ ! -f $dir/kube-apiserver.pid && ! -f $dir/etcd.pid ]] || die "$dir has a running server: stop it first"

  # From here on, a failed start stops whatever it had started.
  trap 'rc=$?; if ((rc != 0)); then cmd_stop "$dir" || true; fi' EXIT

  if [[ -n ${APISERVER_OWNER_PID:-} ]]; then
    local owner=$APISERVER_OWNER_PID
    (
      trap - EXIT
      echo "$BASHPID" > "$dir/watchdog.pid"
      while [[ -f $dir/watchdog.pid ]] && kill -0 "$owner" 2>/dev/null; do sleep 1; done
      if [[ -f $dir/watchdog.pid ]]; then
        echo "owner $owner is gone: stopping"
        exec bash "$SELF" stop "$dir"
      fi
    ) </dev/null >>"$dir/watchdog.log" 2>&1 &
    echo "$!" > "$dir/watchdog.pid"
  fi

  make_pki "$dir"
  local pki=$dir/pki token
  token="$(cut -d, -f1 "$pki/tokens.csv")"

  # etcd: client and peer URLs on 127.0.0.1 only; no fsync, the data is thrown away.
  local attempt cport pport rc=1
  for attempt in 1 2 3; do
    cport="$(free_port)"; pport="$(free_port)"
    [[ $cport != "$pport" ]] || continue
    rm -rf "$dir/etcd-data"
    launch "$dir" etcd "$etcd" --name tierwall-test --data-dir "$dir/etcd-data" \
      --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
      --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
      --initial-cluster "tierwall-test=http://127.0.0.1:$pport" \
      --unsafe-no-fsync --log-level warn
    rc=0; wait_ready etcd "$(cat "$dir/etcd.pid")" "http://127.0.0.1:$cport/health" || rc=$?
    ((rc == 0)) && break
    ((rc == 1)) && grep -q "address already in use" "$dir/etcd.log" || break
    log "etcd: port taken (attempt $attempt), retrying"; rm -f "$dir/etcd.pid"
  done
  ((rc == 0)) || { log_tail "$dir/etcd.log"; die "etcd did not start"; }

  # kube-apiserver: bound to 127.0.0.1, a static token for a system:masters user, RBAC, the
  # default admission plugins (NamespaceLifecycle rejects objects in a missing namespace, as a
  # real cluster does). No endpoint reconciler: 127.0.0.1 is not a valid endpoint address.
  local aport
  rc=1
  for attempt in 1 2 3; do
    aport="$(free_port)"
    [[ $aport != "$cport" && $aport != "$pport" ]] || continue
    launch "$dir" kube-apiserver "$apiserver" \
      --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$aport" \
      --etcd-servers="http://127.0.0.1:$cport" \
      --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
      --token-auth-file="$pki/tokens.csv" --authorization-mode=RBAC \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
      --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
      --enable-priority-and-fairness=false --profiling=false
    rc=0; wait_ready kube-apiserver "$(cat "$dir/kube-apiserver.pid")" "https://127.0.0.1:$aport/readyz" \
      --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" || rc=$?
    ((rc == 0)) && break
    ((rc == 1)) && grep -q "address already in use" "$dir/kube-apiserver.log" || break
    log "kube-apiserver: port taken (attempt $attempt), retrying"; rm -f "$dir/kube-apiserver.pid"
  done
  ((rc == 0)) || { log_tail "$dir/kube-apiserver.log"; die "kube-apiserver did not start"; }

  write_kubeconfig "$dir" "$aport" "$token"
  log "kube-apiserver ready on https://127.0.0.1:$aport (etcd on 127.0.0.1:$cport); stop: $0 stop $dir"
  echo "KUBECONFIG=$dir/kubeconfig"
}

# stop_pid NAME DIR: SIGTERM, then SIGKILL after 15 s, the process whose PID start wrote to
# DIR/NAME.pid, if it still is that process (its command line names DIR or, for the
# watchdog, this script), so a recycled PID is left alone.
stop_pid() {
  local name=$1 dir=$2 pidfile=$2/$1.pid pid i
  [[ -f $pidfile ]] || return 0
  pid="$(cat "$pidfile")"; rm -f "$pidfile"
  [[ $pid =~ ^[0-9]+$ && $pid != "$$" ]] || return 0
  alive "$pid" || return 0
  local want=$dir; [[ $name == watchdog ]] && want=apiserver.sh
  if ! tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$want"; then
    log "$name: PID $pid is no longer ours, left alone"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 30); do alive "$pid" || return 0; sleep 0.5; done
  log "$name: PID $pid ignored SIGTERM, killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 10); do alive "$pid" || return 0; sleep 0.5; done
  log "$name: PID $pid still there after SIGKILL"; return 1
}

cmd_stop() {
  local dir=${1:?usage: scripts/apiserver.sh stop DIR}
  [[ -d $dir ]] || return 0
  dir="$(cd "$dir" && pwd)"
  local rc=0
  stop_pid watchdog "$dir" || rc=1
  stop_pid kube-apiserver "$dir" || rc=1
  stop_pid etcd "$dir" || rc=1
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# main

case "${1:-}" in
  build) cmd_build ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
