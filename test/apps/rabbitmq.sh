#!/usr/bin/env bash
# A private RabbitMQ broker on 127.0.0.1 for end-to-end tests, from Debian's rabbitmq-server
# package (3.10.x on bookworm, Erlang/OTP 25). No systemd, no Docker, nothing on 0.0.0.0.
#
#   rabbitmq.sh install   apt-get install rabbitmq-server if missing (apt-get update only if needed);
#                         stops any broker the package itself started
#   rabbitmq.sh start     start the broker (idempotent); waits for an AMQP handshake, then prints
#                         the URL as its last line
#   rabbitmq.sh stop      stop only this script's broker and its epmd; state dir (logs) is kept
#   rabbitmq.sh clean     stop, then remove the state dir
#   rabbitmq.sh status    exit 0 only if the broker answers an AMQP handshake
#   rabbitmq.sh url       print amqp://guest:guest@127.0.0.1:PORT (guest may only log in from loopback)
#   rabbitmq.sh ctl CMD…  run rabbitmqctl / rabbitmq-diagnostics / rabbitmq-queues against this
#                         node, e.g. `rabbitmq.sh ctl rabbitmqctl list_queues name messages`
#
# Env: TANDEM_RABBITMQ_DIR       state dir (default /tmp/tandem-rabbitmq)
#      TANDEM_RABBITMQ_PORT      AMQP port (default 27460); the broker also uses PORT+1 (Erlang
#                                distribution), PORT+2 (its own epmd) and PORT+3..PORT+7 (CLI tools'
#                                distribution, only while `ctl` runs). All ports are set explicitly:
#                                RabbitMQ's defaults (dist = AMQP+20000, CLI 35672-35682, epmd 4369,
#                                all interfaces) are never used. Keep PORT+7 below 32768 so the ports
#                                stay out of Linux's ephemeral range.
#      TANDEM_RABBITMQ_NODENAME  Erlang node name (default tandem@localhost)
#      TANDEM_RABBITMQ_START_TIMEOUT  seconds to wait for the broker (default 90)
set -euo pipefail

DIR=$(realpath -m "${TANDEM_RABBITMQ_DIR:-/tmp/tandem-rabbitmq}")
PORT=${TANDEM_RABBITMQ_PORT:-27460}
DIST_PORT=$((PORT + 1)) EPMD_PORT=$((PORT + 2))
CTL_PORT_MIN=$((PORT + 3)) CTL_PORT_MAX=$((PORT + 7))
NODENAME=${TANDEM_RABBITMQ_NODENAME:-tandem@localhost}
START_TIMEOUT=${TANDEM_RABBITMQ_START_TIMEOUT:-90}
RMQ_BIN=/usr/lib/rabbitmq/bin   # the real scripts; /usr/sbin/rabbitmq-* would `su rabbitmq`
LOGS=$DIR/log PIDS=$DIR/pids
MARKER=$DIR/.tandem-rabbitmq   # clean only deletes a dir that carries this marker
# Every process we start carries this variable; stop uses it to find leftovers that are ours only.
OWNER_VAR=TANDEM_RABBITMQ_OWNER
URL="amqp://guest:guest@127.0.0.1:$PORT"

log() { echo "[rabbitmq $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1024 ] || [ "$CTL_PORT_MAX" -gt 65535 ]; then
  die "TANDEM_RABBITMQ_PORT=$PORT: need 1024 <= PORT and PORT+7 <= 65535"
fi

# ---------------------------------------------------------------------------------------- install

installed() { dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q 'install ok installed'; }

# Live (non-zombie) processes of the package's system user, if that user exists.
pkg_pids() { { ps -u rabbitmq -o pid=,stat= 2>/dev/null || true; } | awk '$2 !~ /^Z/ {print $1}' | xargs; }

# Debian's package may start its own broker (user rabbitmq, *:5672, *:25672, epmd on *:4369) when
# invoke-rc.d lets it: not on an image whose policy-rc.d exits 101, but don't count on that. Only
# processes that appeared during our apt-get run are stopped, never a system broker run on purpose.
stop_package_broker() {
  local before=" $1 " pids p new=
  pids=$(pkg_pids)
  for p in $pids; do [[ $before == *" $p "* ]] || new+=" $p"; done
  [ -n "$new" ] || return 0
  log "the package started its own broker (pids$new); stopping it"
  if [ -x /etc/init.d/rabbitmq-server ]; then timeout 60 /etc/init.d/rabbitmq-server stop >&2 || true; fi
  local sig
  for sig in TERM KILL; do   # whatever init.d left (epmd -daemon always), by pid
    pids=
    for p in $new; do [ -d "/proc/$p" ] && [[ " $(pkg_pids) " == *" $p "* ]] && pids+=" $p"; done
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086  # a list of pids
    kill "-$sig" $pids 2>/dev/null || true
    for _ in $(seq 25); do
      [[ -z $(for p in $pids; do [[ " $(pkg_pids) " == *" $p "* ]] && echo "$p"; done) ]] && break
      sleep 0.2
    done
  done
  [ -z "$(pkg_pids)" ] || log "WARNING: processes of user rabbitmq still running: $(pkg_pids)"
}

cmd_install() {
  if installed; then
    log "rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server) already installed"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "rabbitmq-server is not installed and installing it needs root"
  export DEBIAN_FRONTEND=noninteractive
  local t=$SECONDS before
  before=$(pkg_pids)
  # An apt list that never saw an update has no candidate: update first. A stale list whose
  # files are gone from the mirror fails the install: update and retry once.
  if ! apt-cache policy rabbitmq-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq >&2
  fi
  if ! apt-get install -y -qq --no-install-recommends rabbitmq-server >&2; then
    log "install failed; apt-get update and retry"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends rabbitmq-server >&2
  fi
  log "installed rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server) in $((SECONDS - t))s"
  stop_package_broker "$before"
}

# ---------------------------------------------------------------------------------- environment

# The broker and the CLI tools read everything from the environment; nothing under /etc/rabbitmq
# or /var/lib/rabbitmq is used. HOME holds the node's private Erlang cookie.
setup_env() {
  local v
  for v in $(compgen -e); do case $v in RABBITMQ_* | ERL_* | CTL_*) unset "$v" ;; esac; done
  export "$OWNER_VAR=$DIR"
  export HOME=$DIR
  export RABBITMQ_NODENAME=$NODENAME
  export RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf
  export RABBITMQ_CONFIG_FILES=$DIR/conf.d
  export RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins
  export RABBITMQ_ENABLED_PLUGINS=   # none: no management (15672), prometheus, stream, mqtt, ...
  export RABBITMQ_MNESIA_BASE=$DIR/mnesia
  export RABBITMQ_LOG_BASE=$LOGS
  export RABBITMQ_LOGS=$LOGS/rabbit.log
  export RABBITMQ_PID_FILE=$PIDS/beam.pid   # written by the broker itself
  export RABBITMQ_MOTD_FILE=$DIR/motd
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$PORT
  export RABBITMQ_DIST_PORT=$DIST_PORT
  # The Erlang port mapper: our own, on loopback and a private port (not the shared 4369).
  export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
  # Erlang distribution listens on all interfaces unless told otherwise.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_DIST_PORT_MIN=$CTL_PORT_MIN RABBITMQ_CTL_DIST_PORT_MAX=$CTL_PORT_MAX
}

write_config() {
  mkdir -p "$DIR" "$LOGS" "$PIDS" "$DIR/mnesia" "$DIR/conf.d"
  touch "$MARKER"
  : >"$DIR/rabbitmq-env.conf"
  echo '[].' >"$DIR/enabled_plugins"
  cat >"$DIR/rabbitmq.conf" <<EOF
# Generated by test/apps/rabbitmq.sh
listeners.tcp.1 = 127.0.0.1:$PORT
loopback_users.guest = true
log.file.level = info
log.console = false
# A test broker on a shared disk: don't block publishers because /tmp runs low.
disk_free_limit.absolute = 1MB
EOF
  if [ ! -s "$DIR/.erlang.cookie" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/.erlang.cookie")
  fi
  chmod 400 "$DIR/.erlang.cookie"
}

# ------------------------------------------------------------------------------------ processes

pid_of() { cat "$PIDS/$1" 2>/dev/null || true; }
# A pid counts as ours only if it carries our owner variable, so a stale pid file can never point
# us at someone else's process.
is_ours() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] || return 1
  tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "$OWNER_VAR=$DIR"
}
alive() { is_ours "$(pid_of "$1")"; }
# Every live process that carries our owner variable (the broker's children included).
our_pids() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" != $$ ] && [ "$p" != "$BASHPID" ] && is_ours "$p" && echo "$p"
  done
  return 0
}

# setsid detaches the process from the caller's session (a test runner or CI step ending must not
# signal it); the inner bash records its own pid, then execs.
spawn() {
  local name=$1; shift
  # shellcheck disable=SC2016  # $$ and $@ belong to the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDS/$name" "$@" </dev/null >"$LOGS/$name.out" 2>&1 &
  for _ in $(seq 50); do alive "$name" && return 0; sleep 0.1; done
  fail "did not start: $*"
}

fail() {
  log "ERROR: $*"
  local f
  for f in "$LOGS/rabbit.log" "$LOGS/server.out" "$LOGS/epmd.out"; do
    [ -s "$f" ] || continue
    # A boot failure's cause (e.g. a bad config key) comes first, before a long crash report.
    if grep -qE '\[(error|critical)\]' "$f"; then
      echo "----- first errors in $f -----" >&2
      grep -m 12 -E '\[(error|critical)\]' "$f" >&2
    fi
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2
  done
  echo "-----" >&2
  exit 1
}

# AMQP 0-9-1 handshake: send the protocol header, expect a Connection.Start method frame
# (type 1, channel 0, class 10, method 10).
amqp_ready() {
  local reply
  # shellcheck disable=SC2016  # $0 belongs to the inner bash
  reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "AMQP\x00\x00\x09\x01" >&3 &&
    head -c 11 <&3' "$PORT" 2>/dev/null | od -An -tx1 | tr -d ' \n') || return 1
  [[ $reply == 010000????????000a000a ]]
}

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# ---------------------------------------------------------------------------------- subcommands

cmd_start() {
  installed || die "rabbitmq-server is not installed: run '$0 install' first"
  setup_env
  if alive server; then
    amqp_ready || die "a broker from $DIR is running (pid $(pid_of server)) but not answering on $PORT"
    log "already running (pid $(pid_of server))"
    echo "$URL"
    return 0
  fi
  local p
  for p in "$PORT" "$DIST_PORT" "$EPMD_PORT"; do
    port_busy "$p" && die "port $p is in use: $(ss -Hltnp "sport = :$p" | head -1)"
  done
  write_config
  rm -f "$PIDS/beam.pid"
  : >"$LOGS/rabbit.log"   # a fresh log per start, so a failure shows this start's lines
  local t=$SECONDS
  # On any failure from here on, stop whatever this start left behind (fail has printed the logs).
  trap 'if [ $? -ne 0 ]; then cmd_stop >/dev/null 2>&1 || true; fi' EXIT

  # Our own epmd in the foreground, so we hold its pid (erl would otherwise spawn `epmd -daemon`).
  spawn epmd epmd -port "$EPMD_PORT" -address 127.0.0.1
  local deadline=$((SECONDS + 10))
  until epmd -port "$EPMD_PORT" -names >/dev/null 2>&1; do
    alive epmd || fail "epmd exited"
    [ "$SECONDS" -lt "$deadline" ] || fail "epmd did not answer on $EPMD_PORT"
    sleep 0.1
  done

  cd "$DIR"   # erl_crash.dump lands in the cwd
  spawn server "$RMQ_BIN/rabbitmq-server"
  deadline=$((SECONDS + START_TIMEOUT))
  # The listener opens in the `networking` boot step, just before the boot finishes; wait for both.
  until amqp_ready && grep -q 'Server startup complete' "$LOGS/rabbit.log"; do
    alive server || fail "the broker exited during start"
    [ "$SECONDS" -lt "$deadline" ] || fail "no AMQP handshake on 127.0.0.1:$PORT after ${START_TIMEOUT}s"
    sleep 0.25
  done
  trap - EXIT
  log "broker $NODENAME up in $((SECONDS - t))s (pid $(pid_of server), beam $(pid_of beam.pid)); state in $DIR"
  echo "$URL"
}

# signal <SIG> <pid...>: send SIG to those pids that are still ours
signal() {
  local sig=$1 p; shift
  for p in "$@"; do
    if is_ours "$p"; then kill "-$sig" "$p" 2>/dev/null || true; fi
  done
}

# wait_gone <seconds> <pid...>: 0 once none of the pids is ours any more
wait_gone() {
  local deadline=$((SECONDS + $1)) p left; shift
  while :; do
    left=
    for p in "$@"; do is_ours "$p" && left+=" $p"; done
    [ -z "$left" ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

cmd_stop() {
  local server beam epmd rest
  unset "$OWNER_VAR"   # so our own helpers (tr, grep, xargs) never look like the broker's
  server=$(pid_of server) beam=$(pid_of beam.pid) epmd=$(pid_of epmd)
  # The broker first: SIGTERM to the wrapper shell (it forwards to beam) and to beam itself both
  # mean a clean shutdown; then its epmd.
  local p
  signal TERM "$server" "$beam"
  if ! wait_gone 30 "$server" "$beam"; then
    log "broker did not stop in 30s; killing it"
    signal KILL "$server" "$beam"
  fi
  signal TERM "$epmd"
  wait_gone 10 "$epmd" || signal KILL "$epmd"
  # Anything else still carrying our owner variable (erl_child_setup, inet_gethost, a CLI run).
  rest=$(our_pids | xargs)
  if [ -n "$rest" ]; then
    log "stopping leftover processes: $rest"
    # shellcheck disable=SC2086
    signal TERM $rest
    # shellcheck disable=SC2086
    wait_gone 5 $rest || signal KILL $rest
    # shellcheck disable=SC2086
    wait_gone 5 $rest || die "processes still running: $rest"
  fi
  rm -f "$PIDS/server" "$PIDS/epmd" "$PIDS/beam.pid"
  for p in "$PORT" "$DIST_PORT" "$EPMD_PORT"; do
    local deadline=$((SECONDS + 5))
    while port_busy "$p"; do
      [ "$SECONDS" -lt "$deadline" ] || die "port $p still listening: $(ss -Hltnp "sport = :$p" | head -1)"
      sleep 0.2
    done
  done
  log "stopped"
}

cmd_clean() {
  cmd_stop
  if [ -d "$DIR" ]; then
    [ -f "$MARKER" ] || die "$DIR has no $(basename "$MARKER"); not deleting it"
    rm -rf "$DIR"
  fi
}

cmd_status() {
  setup_env
  if alive server && amqp_ready; then
    echo "running: $NODENAME pid $(pid_of server), $URL"
  else
    echo "not running"
    return 1
  fi
}

cmd_ctl() {
  [ $# -ge 1 ] || die "usage: $0 ctl rabbitmqctl|rabbitmq-diagnostics|rabbitmq-queues|rabbitmq-plugins ARGS..."
  local tool=$1; shift
  case $tool in
    rabbitmqctl | rabbitmq-diagnostics | rabbitmq-queues | rabbitmq-plugins | rabbitmq-upgrade) ;;
    *) die "unknown tool: $tool" ;;
  esac
  setup_env
  exec "$RMQ_BIN/$tool" -n "$NODENAME" "$@"
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  clean) cmd_clean ;;
  status) cmd_status ;;
  url) echo "$URL" ;;
  ctl) shift; cmd_ctl "$@" ;;
  *) echo "usage: $0 install|start|stop|clean|status|url|ctl TOOL ARGS..." >&2; exit 2 ;;
esac
