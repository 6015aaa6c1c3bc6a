# Argo CD on the local control plane, sourced by cluster.sh (`cluster.sh up --argocd`): Redis from
# Debian, a Git server (git daemon) for repositories the tests commit to, and the one `argocd`
# binary from build-argocd.sh as repo-server, application-controller and server, chosen by
# ARGOCD_BINARY_NAME as Argo CD's own Procfile does. Everything listens on 127.0.0.1 except the
# application controller's metrics port, which upstream binds to 0.0.0.0.
#
# Installed into the cluster: Argo CD's CRDs, namespace argocd with Argo CD's argocd-cm and
# config/argocd/argocd-cm.yaml merged into it (Tandem's health check and actions, as users do), and
# an argocd-secret with a random admin password. `argocd_print` prints what clients need:
#   ARGOCD_SERVER=127.0.0.1:PORT  ARGOCD_CONFIG=<CLI config, logged in as admin>
#   ARGOCD_GIT=git://127.0.0.1:PORT  ARGOCD_GIT_DIR=<directory served; one repository per subdirectory>
# Uses cluster.sh's helpers (start, wait_for, kc, log, fail) and its DIR, BASE and KCFG.

ARGOCD_STATE=$DIR/argocd
ARGOCD_COMPONENTS=(redis git-daemon argocd-repo-server argocd-application-controller argocd-server)
P_REDIS=$((BASE + 10)) P_GIT=$((BASE + 11)) P_REPO=$((BASE + 12)) P_REPO_METRICS=$((BASE + 13))
P_SERVER=$((BASE + 14)) P_SERVER_METRICS=$((BASE + 15)) P_CTRL_METRICS=$((BASE + 16))
ARGOCD_BIN=$ARGOCD_DIR/bin/argocd
REPO_ROOT=$(cd "$here/../.." && pwd)

# The binary each component runs as (cluster.sh's is_ours compares it); fails for other names.
argocd_exe_of() {
  case $1 in
    argocd-*) echo argocd ;;
    # Debian's redis-server is a link to redis-check-rdb (one binary, chosen by name).
    redis) basename "$(readlink -f "$(command -v redis-server || echo redis-server)")" ;;
    git-daemon) echo git-daemon ;;
    *) return 1 ;;
  esac
}

# The environment every Argo CD component runs with: the in-cluster destination is the cluster of
# $KUBECONFIG (ARGOCD_FAKE_IN_CLUSTER), and its data directories are ours.
argocd_env() {
  echo env TANDEM_CLUSTER_OWNER="$DIR" KUBECONFIG="$KCFG" ARGOCD_FAKE_IN_CLUSTER=true ARGOCD_BINARY_NAME="$1" \
    ARGOCD_TLS_DATA_PATH="$ARGOCD_STATE/tls" ARGOCD_SSH_DATA_PATH="$ARGOCD_STATE/ssh" \
    ARGOCD_GNUPGHOME="$ARGOCD_STATE/gpg/keys" ARGOCD_GPG_DATA_PATH="$ARGOCD_STATE/gpg/source" ARGOCD_GPG_ENABLED=false \
    HOME="$ARGOCD_STATE/home"
}

argocd_install() {
  kc get namespace argocd >/dev/null 2>&1 || kc create namespace argocd >/dev/null
  kc apply --server-side -f "$ARGOCD_DIR/crds/" >/dev/null
  wait_for kube-apiserver 60 "Argo CD CRDs Established" kc wait --for=condition=Established \
    crd/applications.argoproj.io crd/appprojects.argoproj.io crd/applicationsets.argoproj.io --timeout=5s
  # Argo CD's own argocd-cm (its install defaults, e.g. ignoreResourceUpdates on /status), with
  # Tandem's keys merged in as users do; two field managers, so neither apply removes the other's keys.
  kc apply -n argocd --server-side --field-manager=argocd-install -f "$ARGOCD_DIR/argocd-cm.yaml" >/dev/null
  kc apply --server-side --field-manager=tandem -f "$REPO_ROOT/config/argocd/argocd-cm.yaml" >/dev/null
  local password hash
  password=$(openssl rand -hex 16)
  hash=$(ARGOCD_BINARY_NAME=argocd "$ARGOCD_BIN" account bcrypt --password "$password")
  printf '%s' "$password" >"$ARGOCD_STATE/admin-password"; chmod 600 "$ARGOCD_STATE/admin-password"
  kc apply --server-side -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata: {name: argocd-secret, namespace: argocd, labels: {app.kubernetes.io/name: argocd-secret, app.kubernetes.io/part-of: argocd}}
stringData:
  admin.password: '$hash'
  admin.passwordMtime: '$(date -u +%Y-%m-%dT%H:%M:%SZ)'
  server.secretkey: '$(openssl rand -hex 32)'
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-rbac-cm, namespace: argocd, labels: {app.kubernetes.io/name: argocd-rbac-cm, app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-cmd-params-cm, namespace: argocd, labels: {app.kubernetes.io/name: argocd-cmd-params-cm, app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-tls-certs-cm, namespace: argocd, labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-ssh-known-hosts-cm, namespace: argocd, labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argocd-gpg-keys-cm, namespace: argocd, labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}}
EOF
}

argocd_up() {
  "$here/build-argocd.sh" >/dev/null      # no-op when cached
  bash "$REPO_ROOT/scripts/install-redis.sh"
  local p n
  # A partial Argo CD (some component died): stop the rest, then start all of it again.
  for n in "${ARGOCD_COMPONENTS[@]}"; do
    if alive "$n"; then log "stopping $n (pid $(pid_of "$n"))"; kill -TERM "$(pid_of "$n")" 2>/dev/null || true; fi
  done
  for _ in $(seq 50); do
    local left=0
    for n in "${ARGOCD_COMPONENTS[@]}"; do alive "$n" && left=1; done
    [ $left = 0 ] && break
    sleep 0.2
  done
  for p in $P_REDIS $P_GIT $P_REPO $P_REPO_METRICS $P_SERVER $P_SERVER_METRICS $P_CTRL_METRICS; do
    port_free "$p" || die "port $p is in use; set TANDEM_CLUSTER_PORT_BASE to another base"
  done
  mkdir -p "$ARGOCD_STATE"/{redis,git,tls,ssh,gpg/keys,gpg/source,home}
  chmod 700 "$ARGOCD_STATE/gpg/keys"
  log "installing Argo CD $ARGOCD_VERSION (CRDs, argocd-cm with Tandem's Lua, argocd-secret)"
  argocd_install

  # Redis rewrites its process title: the template keeps the config file's path in it (is_ours).
  cat >"$ARGOCD_STATE/redis.conf" <<EOF
bind 127.0.0.1
port $P_REDIS
dir $ARGOCD_STATE/redis
save ""
appendonly no
daemonize no
proc-title-template "{title} {listen-addr} {config-file}"
EOF
  log "starting redis, git daemon"
  start redis redis-server "$ARGOCD_STATE/redis.conf"
  start git-daemon "$(git --exec-path)/git-daemon" --reuseaddr --listen=127.0.0.1 --port="$P_GIT" \
    --base-path="$ARGOCD_STATE/git" --export-all --informative-errors "$ARGOCD_STATE/git"
  wait_for redis 30 "redis PING" redis-cli -h 127.0.0.1 -p "$P_REDIS" ping

  log "starting Argo CD repo-server, application-controller, server"
  local common=(--loglevel info --redis "127.0.0.1:$P_REDIS")
  # shellcheck disable=SC2046  # argocd_env prints words
  start argocd-repo-server $(argocd_env argocd-repo-server) "$ARGOCD_BIN" "${common[@]}" \
    --address 127.0.0.1 --port "$P_REPO" --metrics-address 127.0.0.1 --metrics-port "$P_REPO_METRICS" --disable-tls
  # shellcheck disable=SC2046
  start argocd-application-controller $(argocd_env argocd-application-controller) "$ARGOCD_BIN" "${common[@]}" \
    --kubeconfig "$KCFG" --namespace argocd \
    --repo-server "127.0.0.1:$P_REPO" --repo-server-plaintext --metrics-port "$P_CTRL_METRICS" \
    --commit-server 127.0.0.1:1 --hydrator-enabled=false
  # shellcheck disable=SC2046
  start argocd-server $(argocd_env argocd-server) "$ARGOCD_BIN" "${common[@]}" --kubeconfig "$KCFG" --namespace argocd \
    --insecure --address 127.0.0.1 --port "$P_SERVER" --metrics-address 127.0.0.1 --metrics-port "$P_SERVER_METRICS" \
    --repo-server "127.0.0.1:$P_REPO" --repo-server-plaintext --dex-server http://127.0.0.1:1 --hydrator-enabled=false
  wait_for argocd-repo-server 60 "repo-server metrics" curl -fsS --max-time 2 "http://127.0.0.1:$P_REPO_METRICS/metrics"
  wait_for argocd-application-controller 60 "application-controller /healthz" curl -fsS --max-time 2 "http://127.0.0.1:$P_CTRL_METRICS/healthz"
  wait_for argocd-server 60 "server /healthz" curl -fsS --max-time 2 "http://127.0.0.1:$P_SERVER/healthz"
  # The server creates the default AppProject when it starts.
  wait_for argocd-server 60 "AppProject default" kc -n argocd get appproject default
  wait_for argocd-server 60 "argocd login" env ARGOCD_BINARY_NAME=argocd "$ARGOCD_BIN" login "127.0.0.1:$P_SERVER" --plaintext \
    --username admin --password "$(cat "$ARGOCD_STATE/admin-password")" --config "$ARGOCD_STATE/cli-config"
}

argocd_print() {
  echo "ARGOCD_SERVER=127.0.0.1:$P_SERVER"
  echo "ARGOCD_CONFIG=$ARGOCD_STATE/cli-config"
  echo "ARGOCD_GIT=git://127.0.0.1:$P_GIT"
  echo "ARGOCD_GIT_DIR=$ARGOCD_STATE/git"
}
