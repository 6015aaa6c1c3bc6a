#!/usr/bin/env bash
# Local Kubernetes control plane on 127.0.0.1 for e2e tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok (one fake node) and the Argo Rollouts controller,
# all from the binaries that build.sh caches.
#
#   cluster.sh up      start (idempotent); the last line printed is KUBECONFIG=<absolute path>
#   cluster.sh up --argocd   also Argo CD, Redis and a Git server (argocd.sh; added to a running cluster)
#   cluster.sh down    stop only the processes this script recorded, then remove the state dir
#   cluster.sh status  show each component; exit 0 only if everything is up
#   cluster.sh up --real-node   also start the real node (real-node.sh, docs/real-node.md)
#   cluster.sh real-node up|down|status|check   add/remove the real node on a running cluster
#
# Env: TANDEM_CLUSTER_DIR (state dir, default ~/.cache/tandem/cluster),
#      TANDEM_CLUSTER_PORT_BASE (first of 8 consecutive ports, default 27400; Argo CD uses BASE+10..+17),
#      TANDEM_REAL_NODE=1 (same as up --real-node).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=versions.sh
. "$here/versions.sh"

DIR=${TANDEM_CLUSTER_DIR:-$HOME/.cache/tandem/cluster}
DIR=$(realpath -m "$DIR")   # absolute, so the KUBECONFIG line is usable from any cwd
PKI=$DIR/pki LOGS=$DIR/logs PIDS=$DIR/pids KCFG=$DIR/kubeconfig
BIN=$STACK_DIR/bin ASSETS=$STACK_DIR/assets
# Below the Linux ephemeral range (32768+) so outgoing connections never take these ports.
BASE=${TANDEM_CLUSTER_PORT_BASE:-27400}
P_ETCD=$BASE P_ETCD_PEER=$((BASE + 1)) P_API=$((BASE + 2)) P_KCM=$((BASE + 3))
P_SCHED=$((BASE + 4)) P_KWOK=$((BASE + 5)) P_RO_HEALTH=$((BASE + 6)) P_RO_METRICS=$((BASE + 7))
# Start order; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok rollouts-controller)
# shellcheck source=argocd.sh
. "$here/argocd.sh"
# Argo CD's components count as part of this cluster once asked for (or once their state exists).
WANT_ARGOCD=0
[[ " $* " == *" --argocd "* ]] && WANT_ARGOCD=1
if [ $WANT_ARGOCD = 1 ] || [ -d "$ARGOCD_STATE" ]; then COMPONENTS+=("${ARGOCD_COMPONENTS[@]}"); fi
MARKER=$DIR/.tandem-cluster   # down only deletes a dir that carries this marker

# shellcheck source=real-node.sh
. "$here/real-node.sh"

log() { echo "[cluster $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
kc() { "$BIN/kubectl" --kubeconfig="$KCFG" --request-timeout=30s "$@"; }
api_curl() { curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"; }
api_ready() { [ -f "$PKI/admin.key" ] && api_curl "https://127.0.0.1:$P_API/readyz" >/dev/null 2>&1; }

pid_of() { cat "$PIDS/$1" 2>/dev/null || true; }
# The binary a component runs as: its own name, except for those argocd.sh maps.
exe_of() { argocd_exe_of "$1" || exe_name "$1"; }
# A pid counts as ours only if it runs the component's binary with this state dir on its
# command line (or in TANDEM_CLUSTER_OWNER), so a stale pid file never points at someone else's process.
is_ours() {
  local name=$1 pid=$2 exe
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "$(basename "${exe% (deleted)}")" = "$(exe_of "$name")" ] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DIR/" && return 0
  # Components without a path on their command line carry the state dir in their environment.
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "TANDEM_CLUSTER_OWNER=$DIR"
}
alive() { is_ours "$1" "$(pid_of "$1")"; }

# setsid detaches the server from the caller's session/process group (a CI step or terminal
# ending must not take the cluster down); the inner bash records its own pid, then execs.
start() {
  local name=$1; shift
  # shellcheck disable=SC2016  # $$ and $@ belong to the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDS/$name" "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
  # Wait for the exec, so later liveness checks see the real binary rather than the wrapper.
  for _ in $(seq 50); do alive "$name" && return 0; sleep 0.1; done
  fail "$name" "did not start"
}

# Print why and the component's log tail, then exit non-zero (the up trap stops what we started).
fail() {
  log "ERROR: $1: $2"
  if [ -f "$LOGS/$1.log" ]; then
    echo "----- last 40 lines of $LOGS/$1.log -----" >&2
    tail -n 40 "$LOGS/$1.log" >&2
    echo "-----" >&2
  fi
  exit 1
}

# wait_for <component whose log explains a failure> <timeout seconds> <what> <command...>
wait_for() {
  local name=$1 timeout=$2 what=$3; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || fail "$name" "exited while waiting for $what"
    [ "$SECONDS" -lt "$deadline" ] || fail "$name" "timed out after ${timeout}s waiting for $what"
    sleep 0.5
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets `left` to the recorded components still running; true once none are, within ~10s.
wait_gone() {
  local n
  for _ in $(seq 50); do
    left=()
    for n in "${COMPONENTS[@]}"; do alive "$n" && left+=("$n"); done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.2
  done
  return 1
}

# TERM every recorded live component (consumers first), KILL what outlives the grace period.
stop_all() {
  local name pid i left=()
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${COMPONENTS[i]}
    pid=$(pid_of "$name")
    if is_ours "$name" "$pid"; then log "stopping $name (pid $pid)"; kill -TERM "$pid" 2>/dev/null || true; fi
  done
  wait_gone && return 0
  for name in "${left[@]}"; do
    log "$name ignored SIGTERM; sending SIGKILL"; kill -KILL "$(pid_of "$name")" 2>/dev/null || true
  done
  wait_gone && return 0
  log "ERROR: still running: ${left[*]}"
  return 1
}

# Remove the state dir, but only one this script created (guards against a mistyped TANDEM_CLUSTER_DIR).
wipe_dir() {
  if [ -f "$MARKER" ]; then rm -rf "$DIR"
  elif [ -z "$(ls -A "$DIR" 2>/dev/null)" ]; then rmdir "$DIR" 2>/dev/null || true
  else die "$DIR has no $(basename "$MARKER") marker; refusing to delete it"; fi
}

# One CA signs everything: the serving cert (also used by KCM/scheduler so probes can verify
# it), the admin client cert (O=system:masters => cluster-admin via RBAC), plus an SA key pair.
PKI_OPTS=(-days 3650 -sha256)
# sign <name> <subject> <x509 extensions>: key + CSR + CA-signed cert in $PKI.
sign() {
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$PKI/$1.ext"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial "${PKI_OPTS[@]}" \
    -extfile "$PKI/$1.ext" -out "$PKI/$1.crt" 2>/dev/null
}

make_pki() {
  openssl req -x509 -newkey rsa:2048 -nodes "${PKI_OPTS[@]}" -subj /CN=tandem-cluster-ca \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  sign serving /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
  sign admin "/O=system:masters/CN=tandem-admin" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
}

write_kubeconfig() {
  cat >"$KCFG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tandem
  cluster:
    server: https://127.0.0.1:$P_API
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: tandem-admin
  user:
    client-certificate-data: $(base64 -w0 "$PKI/admin.crt")
    client-key-data: $(base64 -w0 "$PKI/admin.key")
contexts:
- name: tandem
  context: {cluster: tandem, user: tandem-admin}
current-context: tandem
EOF
  chmod 600 "$KCFG"
}

start_etcd() {
  # --unsafe-no-fsync: throwaway test data, and fsync dominates etcd latency on CI disks.
  start etcd "$BIN/etcd" --name=tandem --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$P_ETCD" --advertise-client-urls="http://127.0.0.1:$P_ETCD" \
    --listen-peer-urls="http://127.0.0.1:$P_ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$P_ETCD_PEER" \
    --initial-cluster="tandem=http://127.0.0.1:$P_ETCD_PEER" \
    --auto-compaction-retention=1 --unsafe-no-fsync --log-level=warn
  wait_for etcd 30 "etcd /health" curl -fsS --max-time 2 "http://127.0.0.1:$P_ETCD/health"
}

start_apiserver() {
  # --advertise-address: hosts without a default route cannot derive one.
  # --endpoint-reconciler-type=none: no in-cluster clients need the kubernetes Service endpoints.
  # --requestheader-*: KCM/scheduler delegated authn expects that CA in the
  # extension-apiserver-authentication ConfigMap and logs an error every few seconds without it.
  # No front-proxy-client cert is ever issued, so header authentication stays unused.
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$P_ETCD" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$P_API" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
    --client-ca-file="$PKI/ca.crt" --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --endpoint-reconciler-type=none --cert-dir="$DIR/apiserver-certs" --profiling=false \
    --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra-
  wait_for kube-apiserver 90 "apiserver /readyz" api_ready
}

start_controllers() {
  local auth=(--kubeconfig="$KCFG" --authentication-kubeconfig="$KCFG" --authorization-kubeconfig="$KCFG"
              --bind-address=127.0.0.1 --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key"
              --leader-elect=false --profiling=false)
  start kube-controller-manager "$BIN/kube-controller-manager" "${auth[@]}" --secure-port="$P_KCM" \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key"
  start kube-scheduler "$BIN/kube-scheduler" "${auth[@]}" --secure-port="$P_SCHED"
  # kwok >= 0.8 has no built-in stages: node-initialize/heartbeat-with-lease and
  # pod-ready/complete/delete come from the kwok module (see build.sh). No KwokConfiguration
  # document: kwok 0.8 does not default one read from a file (lease parallelism 0 => exit);
  # the lease duration is passed as a flag instead.
  # Node/pod IPs are placeholder status data only; kwok never connects to them.
  start kwok "$BIN/kwok" --kubeconfig="$KCFG" --config="$ASSETS/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --node-ip=192.0.2.1 --cidr=10.244.0.0/24 \
    --server-address="127.0.0.1:$P_KWOK"
  wait_for kube-controller-manager 60 "controller-manager /healthz" api_curl "https://127.0.0.1:$P_KCM/healthz"
  wait_for kube-scheduler 60 "scheduler /healthz" api_curl "https://127.0.0.1:$P_SCHED/healthz"
  wait_for kwok 60 "kwok /healthz" curl -fsS --max-time 2 "http://127.0.0.1:$P_KWOK/healthz"
}

create_node() {
  # The annotation is what kwok selects on; no taint because every node here is fake.
  kc apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
EOF
  wait_for kwok 60 "node kwok-node-0 Ready" kc wait --for=condition=Ready node/kwok-node-0 --timeout=5s
  # Until the controller-manager creates it, ServiceAccount admission rejects pods in `default`.
  wait_for kube-controller-manager 60 "ServiceAccount default/default" kc get serviceaccount default -n default
}

start_rollouts() {
  kc create namespace argo-rollouts >/dev/null
  # Server-side apply: client-side apply copies each 170-230 KB CRD into the last-applied
  # annotation, which runs into the 256 KiB annotation limit.
  kc apply --server-side -f "$ASSETS/rollouts-crds/" >/dev/null
  wait_for kube-apiserver 60 "Argo CRDs Established" kc wait --for=condition=Established crd --all --timeout=5s
  # --ingress-api-version skips parsing the server version; healthz/metrics always bind 0.0.0.0.
  start rollouts-controller env POD_NAMESPACE=argo-rollouts "$BIN/rollouts-controller" \
    --kubeconfig="$KCFG" --leader-elect=false --ingress-api-version=networking/v1 \
    --healthzPort="$P_RO_HEALTH" --metricsPort="$P_RO_METRICS" --loglevel=info
  wait_for rollouts-controller 60 "Argo Rollouts /healthz" curl -fsS --max-time 2 "http://127.0.0.1:$P_RO_HEALTH/healthz"
}

# On a failed up, stop what was started so nothing is left orphaned; logs stay for inspection.
on_up_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  real_node_down || true
  stop_all || true
  log "up failed; logs kept in $LOGS (run '$0 down' to remove them)"
  exit "$rc"
}

all_alive() { local n; for n in "${COMPONENTS[@]}"; do alive "$n" || return 1; done; }
base_alive() { local n; for n in etcd kube-apiserver kube-controller-manager kube-scheduler kwok rollouts-controller; do alive "$n" || return 1; done; }

cmd_up() {
  if [ -f "$MARKER" ] && all_alive && api_ready; then
    if [ "$WANT_REAL_NODE" = 1 ] && ! real_node_status >/dev/null; then real_node_down; real_node_up; fi
    log "already running"; [ $WANT_ARGOCD = 1 ] && argocd_print; echo "KUBECONFIG=$KCFG"; return 0
  fi
  # A running cluster asked for Argo CD as well: add it, leave the rest as it is.
  if [ $WANT_ARGOCD = 1 ] && [ -f "$MARKER" ] && api_ready && base_alive; then
    trap on_up_exit EXIT
    argocd_up
    trap - EXIT
    argocd_print; echo "KUBECONFIG=$KCFG"; return 0
  fi
  if [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    log "found a stale or partial cluster in $DIR; removing it"
    real_node_down
    stop_all || die "could not stop the previous cluster"
    wipe_dir
  fi
  "$here/build.sh" >/dev/null   # no-op when the binary cache is warm
  local p
  for p in $P_ETCD $P_ETCD_PEER $P_API $P_KCM $P_SCHED $P_KWOK $P_RO_HEALTH $P_RO_METRICS; do
    port_free "$p" || die "port $p is in use; set TANDEM_CLUSTER_PORT_BASE to another base"
  done
  mkdir -p "$DIR" && touch "$MARKER" && mkdir -p "$PKI" "$LOGS" "$PIDS"
  trap on_up_exit EXIT
  local t0=$SECONDS
  make_pki; write_kubeconfig
  log "starting etcd";                   start_etcd
  log "starting kube-apiserver";         start_apiserver
  log "starting controller-manager, scheduler, kwok"; start_controllers
  log "creating node kwok-node-0";       create_node
  log "starting Argo Rollouts";          start_rollouts
  [ $WANT_ARGOCD = 1 ] && argocd_up
  [ "$WANT_REAL_NODE" = 1 ] && real_node_up
  trap - EXIT
  log "ready in $((SECONDS - t0))s (logs: $LOGS)"
  [ $WANT_ARGOCD = 1 ] && argocd_print
  echo "KUBECONFIG=$KCFG"
}

cmd_down() {
  [ -d "$DIR" ] || { log "nothing to stop"; return 0; }
  real_node_down
  stop_all || die "some components are still running; state kept in $DIR"
  wipe_dir
  log "stopped; removed $DIR"
}

cmd_status() {
  local n pid ok=0
  for n in "${COMPONENTS[@]}"; do
    pid=$(pid_of "$n")
    if is_ours "$n" "$pid"; then printf '%-24s pid %-8s alive\n' "$n" "$pid"
    else printf '%-24s pid %-8s DEAD\n' "$n" "${pid:--}"; ok=1; fi
  done
  if api_ready; then echo "apiserver /readyz         ok (https://127.0.0.1:$P_API)"
  else echo "apiserver /readyz         NOT READY"; ok=1; fi
  if [ -f "$REAL_NODE_MARKER" ]; then real_node_status || ok=1; fi
  [ $ok -eq 0 ] && echo "KUBECONFIG=$KCFG"
  return $ok
}

cmd_real_node() {
  case ${1:-} in
    up)
      [ -f "$MARKER" ] && all_alive && api_ready || die "the cluster is not running; start it with '$0 up' first"
      real_node_status >/dev/null || { real_node_down; trap 'rc=$?; [ $rc -eq 0 ] || real_node_down; exit $rc' EXIT; real_node_up; trap - EXIT; }
      echo "REAL_NODE_NETNS=$NETNS"
      echo "KUBECONFIG=$KCFG" ;;
    down) real_node_down ;;
    status) real_node_status ;;
    # Exit 3 with the reason when this machine cannot run the real node.
    check) local why; why=$(real_node_missing); [ -z "$why" ] || { echo "$why"; exit 3; }; echo "the real node can run here" ;;
    *) echo "usage: $0 real-node up|down|status|check" >&2; exit 2 ;;
  esac
}

WANT_REAL_NODE=${TANDEM_REAL_NODE:-0}
[[ " $* " == *" --real-node "* ]] && WANT_REAL_NODE=1
case ${1:-} in
  up) cmd_up ;;
  real-node) cmd_real_node "${2:-}" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up [--argocd] [--real-node]|down|status|real-node up|down|status|check" >&2; exit 2 ;;
esac
