# shellcheck shell=bash
# The optional real node, sourced by cluster.sh: containerd + runc + CNI bridge (Debian packages),
# kubelet, kube-proxy (iptables) and CoreDNS (build-real-node.sh), images from build-images.sh.
#
# Isolation: everything that carries pod or Service traffic runs inside one network namespace
# this script creates (tandem-<hash of the state dir>). It holds only `lo` and the pod bridge, so
# there is no route out of it; the host's interfaces, routes and iptables are never touched.
# The kubelet, kube-proxy and CoreDNS reach the apiserver (127.0.0.1 on the host) through a pair
# of socat relays joined by a unix socket in the state dir: TCP 127.0.0.1:<api port> inside the
# namespace -> unix socket -> TCP 127.0.0.1:<api port> on the host.
# Everything else lives under $DIR/node: containerd's root/state and socket, kubelet's root dir,
# pod logs, CNI config and IPAM state; pod cgroups under /<cgroup v1 controller>/tandem-<hash>.
#
# Expects cluster.sh's DIR, PKI, LOGS, PIDS, P_API, start, wait_for, alive, is_ours, fail, log, kc, sign.

ND=$DIR/node
NODE_NAME=real-node-0
RN_ID=$(printf '%s' "$DIR" | sha256sum | cut -c1-8)
NETNS=tandem-$RN_ID
CGROUP_ROOT=/tandem-$RN_ID
BRIDGE=tandem0
POD_CIDR=10.245.0.0/24 NODE_IP=10.245.0.1
SERVICE_CIDR=10.96.0.0/16   # the apiserver's --service-cluster-ip-range (cluster.sh)
REAL_NODE_COMPONENTS=(api-bridge node-api-bridge containerd kubelet kube-proxy coredns)
REAL_NODE_MARKER=$DIR/.real-node
# The binary each component execs (both relays are socat).
exe_name() { case $1 in api-bridge | node-api-bridge) echo socat ;; *) echo "$1" ;; esac; }
in_netns() { nsenter --net="/run/netns/$NETNS" -- "$@"; }
ctr_() { ctr --address "$ND/containerd.sock" -n k8s.io "$@"; }

# Why the real node cannot run here, or nothing. Checks what needs root and the Debian packages.
real_node_missing() {
  local c missing=()
  [ "$(id -u)" -eq 0 ] || { echo "the real node needs root (network namespaces, mounts, cgroups)"; return; }
  for c in containerd containerd-shim-runc-v2 runc ctr socat iptables nsenter ip mmdebstrap gcc; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=(/usr/lib/cni/bridge)
  [ ${#missing[@]} -eq 0 ] || { echo "missing ${missing[*]} (run test/cluster/install-real-node-deps.sh)"; return; }
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || echo "no memory cgroup controller"
}

v1_controllers() { local d; for d in /sys/fs/cgroup/*/; do d=${d%/}; [ "$(stat -fc %T "$d")" = cgroupfs ] && echo "$d"; done; }

make_netns() {
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  # A fixed MAC: a bridge otherwise takes the lowest MAC of its ports, so each new pod's veth may
  # change it, and pods keep sending to the gateway's stale MAC (DNS and Service traffic time out).
  ip -n "$NETNS" link add "$BRIDGE" address 02:54:61:6e:64:01 type bridge
  ip -n "$NETNS" addr add "$NODE_IP/24" dev "$BRIDGE"
  ip -n "$NETNS" link set "$BRIDGE" up
  # A process in the namespace needs a route to a ClusterIP before kube-proxy's OUTPUT DNAT can
  # rewrite it (normally the default route); this one points at the pod bridge, not outside.
  ip -n "$NETNS" route add "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  # Pod-to-Service replies cross the bridge between two pods: conntrack must see them to undo
  # the DNAT (these sysctls are per network namespace).
  in_netns sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
}

# kubelet refuses a cgroup root that does not exist; cpuset needs its cpus/mems filled in.
# cpu.shares: every pod of the node shares this one cgroup, which by default weighs as much as a
# single host process (1024); on a busy 2-core machine (parallel Go builds) that starved the apps
# until their readiness probes failed. 8192 weighs as eight busy host processes.
make_cgroup_root() {
  local d
  for d in $(v1_controllers); do
    mkdir -p "$d$CGROUP_ROOT"
    if [ -f "$d/cpu.shares" ]; then echo 8192 >"$d$CGROUP_ROOT/cpu.shares"; fi
    if [ -f "$d/cpuset.cpus" ]; then
      cat "$d/cpuset.cpus" >"$d$CGROUP_ROOT/cpuset.cpus"; cat "$d/cpuset.mems" >"$d$CGROUP_ROOT/cpuset.mems"
    fi
  done
}

node_kubeconfig() { # node_kubeconfig <file> <cert name>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tandem
  cluster: {server: "https://127.0.0.1:$P_API", certificate-authority: "$PKI/ca.crt"}
users:
- name: u
  user: {client-certificate: "$PKI/$2.crt", client-key: "$PKI/$2.key"}
contexts:
- name: tandem
  context: {cluster: tandem, user: u}
current-context: tandem
EOF
}

write_node_configs() {
  local ext="extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
  # The Node authorizer admits the kubelet by this identity; kube-proxy's has a default binding
  # (system:node-proxier). CoreDNS reads Services and EndpointSlices as the admin: test stack only.
  sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "$ext"
  sign kube-proxy /CN=system:kube-proxy "$ext"
  node_kubeconfig "$ND/kubelet.kubeconfig" kubelet
  node_kubeconfig "$ND/kube-proxy.kubeconfig" kube-proxy
  node_kubeconfig "$ND/coredns.kubeconfig" admin
  mkdir -p "$ND/cni" "$ND/pod-logs" "$ND/kubelet"
  : >"$ND/resolv.conf"   # no upstream resolver: pods resolve cluster names only

  cat >"$ND/containerd.toml" <<EOF
version = 2
root = "$ND/containerd/root"
state = "$ND/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$ND/containerd.sock"
[ttrpc]
  address = "$ND/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$ND/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "tandem.local/pause:1"
  stream_server_address = "127.0.0.1"
  # Pod network namespaces under our state dir, so down can find (and unmount) exactly ours.
  netns_mounts_under_state_dir = true
  # This machine's root lacks CAP_SYS_RESOURCE, so no process may lower its oom_score_adj; the
  # pause container asks for -998 and runc's init then dies ("can't get final child's PID from
  # pipe: EOF"). Cap every container's score at containerd's own instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$ND/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
EOF

  # No masquerade and no route beyond the bridge: the namespace has no other interface.
  cat >"$ND/cni/10-tandem.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "tandem", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$ND/cni-ipam", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
EOF

  cat >"$ND/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$ND/containerd.sock
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: "$PKI/ca.crt"}}
authorization: {mode: AlwaysAllow}
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $ND/resolv.conf
podLogsDir: $ND/pod-logs
# Re-sync each pod often, so Downward API volumes follow annotation changes within seconds.
syncFrequency: 5s
# Images come from build-images.sh and cannot be pulled again: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2%}
serializeImagePulls: false
kubeAPIQPS: 50
kubeAPIBurst: 100
EOF

  cat >"$ND/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$ND/kube-proxy.kubeconfig"}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# 0: leave the (machine-wide) conntrack table size and timeouts as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 0s}
EOF

  cat >"$ND/Corefile" <<EOF
.:53 {
  errors
  health 127.0.0.1:8080
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $ND/coredns.kubeconfig tandem
    fallthrough in-addr.arpa ip6.arpa
  }
}
EOF
}

in_netns_curl() { in_netns curl -fsS --max-time 2 "$@"; }

real_node_up() {
  local why bin images
  why=$(real_node_missing)
  [ -z "$why" ] || die "the real node cannot run here: $why"
  bin=$("$here/build-real-node.sh" | tail -n1)/bin
  images=$("$here/build-images.sh" | tail -n1)
  mkdir -p "$ND" && touch "$REAL_NODE_MARKER"
  local t0=$SECONDS
  write_node_configs
  log "real node: network namespace $NETNS ($POD_CIDR on $BRIDGE, no route out)"
  ip netns list | grep -qw "$NETNS" || make_netns
  make_cgroup_root
  start api-bridge socat "UNIX-LISTEN:$ND/api.sock,fork" "TCP:127.0.0.1:$P_API"
  start node-api-bridge nsenter --net="/run/netns/$NETNS" -- socat "TCP-LISTEN:$P_API,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$ND/api.sock"
  wait_for node-api-bridge 30 "apiserver through the relays" in_netns curl -fsS --max-time 2 --cacert "$PKI/ca.crt" \
    --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$P_API/readyz"
  log "real node: containerd"
  start containerd nsenter --net="/run/netns/$NETNS" -- containerd --config "$ND/containerd.toml"
  wait_for containerd 30 "containerd" ctr_ version
  ctr_ images import "$images/images.tar" >"$LOGS/images-import.log"
  log "real node: kubelet, kube-proxy, CoreDNS"
  start kubelet nsenter --net="/run/netns/$NETNS" -- "$bin/kubelet" --config="$ND/kubelet.yaml" \
    --kubeconfig="$ND/kubelet.kubeconfig" --root-dir="$ND/kubelet" --cert-dir="$ND/kubelet-pki" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --node-labels=tandem.dev/real-node=true --register-with-taints=tandem.dev/real-node=true:NoSchedule --v=1
  start kube-proxy nsenter --net="/run/netns/$NETNS" -- "$bin/kube-proxy" --config="$ND/kube-proxy.yaml"
  start coredns nsenter --net="/run/netns/$NETNS" -- "$bin/coredns" -conf "$ND/Corefile"
  wait_for kubelet 120 "node $NODE_NAME Ready" kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
  wait_for kube-proxy 60 "kube-proxy /healthz" in_netns_curl http://127.0.0.1:10256/healthz
  wait_for coredns 60 "CoreDNS /health" in_netns_curl http://127.0.0.1:8080/health
  echo "$NETNS" >"$ND/netns"
  log "real node $NODE_NAME ready in $((SECONDS - t0))s (netns $NETNS)"
}

# Undo everything real_node_up did, also after a crash: tasks, mounts, netns, cgroups.
real_node_down() {
  local name pid i id m d
  [ -f "$REAL_NODE_MARKER" ] || [ -d "$ND" ] || return 0
  # The kubelet first, so nothing restarts containers while they are being removed.
  for name in kubelet kube-proxy coredns; do
    pid=$(pid_of "$name"); is_ours "$name" "$pid" && { log "stopping $name (pid $pid)"; kill -TERM "$pid" 2>/dev/null || true; }
  done
  # Shims outlive containerd by design: kill and delete every task while containerd still runs.
  if alive containerd; then
    for id in $(ctr_ tasks list -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for _ in $(seq 50); do [ -z "$(ctr_ tasks list -q 2>/dev/null | head -c1)" ] && break
      for id in $(ctr_ tasks list -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done; sleep 0.2; done
  fi
  for ((i = ${#REAL_NODE_COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${REAL_NODE_COMPONENTS[i]}; pid=$(pid_of "$name")
    is_ours "$name" "$pid" && { kill -TERM "$pid" 2>/dev/null || true; }
  done
  for name in "${REAL_NODE_COMPONENTS[@]}"; do
    for _ in $(seq 50); do alive "$name" || break; sleep 0.2; done
    alive "$name" && { log "$name ignored SIGTERM; sending SIGKILL"; kill -KILL "$(pid_of "$name")" 2>/dev/null || true; }
  done
  # Any shim left (containerd died first): its cmdline names our containerd socket.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $ND/containerd.sock" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  # Mounts under the state dir (rootfs overlays, volumes, pod netns), deepest first.
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | grep -F "$ND/" | sort -r)
  ip netns list 2>/dev/null | grep -qw "$NETNS" && ip netns del "$NETNS"
  # Every hierarchy, the unified one too: runc also creates the pod cgroups there on a hybrid setup.
  for d in /sys/fs/cgroup/*/; do
    d=${d%/}
    [ -d "$d$CGROUP_ROOT" ] && find "$d$CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  rm -f "$REAL_NODE_MARKER"
  if [ -d "$ND" ]; then rm -rf "$ND"; fi
  kc delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  log "real node removed"
}

real_node_status() {
  local n pid ok=0
  [ -f "$REAL_NODE_MARKER" ] || { echo "real node                not started"; return 1; }
  for n in "${REAL_NODE_COMPONENTS[@]}"; do
    pid=$(pid_of "$n")
    if is_ours "$n" "$pid"; then printf '%-24s pid %-8s alive\n' "$n" "$pid"
    else printf '%-24s pid %-8s DEAD\n' "$n" "${pid:--}"; ok=1; fi
  done
  echo "real node netns          $NETNS"
  return $ok
}
