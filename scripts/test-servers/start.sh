#!/usr/bin/env bash
# Start private RabbitMQ, OpenSSH (SFTP only) and PostgreSQL servers on 127.0.0.1 for the tests
# (scripts/test.sh calls it; recipes and timings behind it: docs/rabbitmq.md and the comments below).
#
#   out=$(scripts/test-servers/start.sh [DIR]) && set -a && eval "$out" && set +a
#   ...tests...
#   scripts/test-servers/stop.sh "$LOANHUB_TEST_SERVERS_DIR"
#
# Prints KEY=VALUE lines on stdout (also written to DIR/env); progress and timings go to stderr.
# Needs root: it installs missing Debian packages, runs sshd as root and PostgreSQL as user postgres.
# Without DIR it makes a new one under /tmp with new free ports, so several copies can run at once.
# Given the DIR of an earlier run, it starts again whatever is not running there, on the same ports
# and the same data (each DIR/<server>/start and DIR/<server>/stop can also be run on its own).
set -euo pipefail

log() { echo "test-servers: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
[ "$(id -u)" = 0 ] || { log "run as root (sshd needs it; PostgreSQL runs as user postgres)"; exit 1; }

# ---- 1. packages: install only what is missing (postgresql-15 is already on the machine image) ----
need=()
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
[ -x /usr/bin/chromium ] || need+=(chromium)   # the /ops page's browser test (playwright-core drives it)
if [ ${#need[@]} -gt 0 ]; then
  t=$(now); log "installing ${need[*]}"
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then   # keep the packages from starting system-wide daemons
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  rc=0 apt_log=$(mktemp /tmp/loanhub-apt.XXXXXX)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 "${need[@]}"; } > "$apt_log" 2>&1 < /dev/null || rc=$?
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d   # remove it only if we made it
  [ $rc = 0 ] || { tail -30 "$apt_log" >&2; log "apt-get failed ($rc); whole output in $apt_log"; exit $rc; }
  rm -f "$apt_log"
  log "installed in $(since "$t")"
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGOSUSER=postgres; id -u postgres >/dev/null 2>&1 || PGOSUSER=nobody   # PostgreSQL refuses to run as root

# ---- 2. the directory, ports and configuration (made once per DIR) ----
dir=${1:-}
if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/loanhub-servers.XXXXXX); fi
mkdir -p "$dir"; dir=$(cd "$dir" && pwd); chmod 755 "$dir"
R=$dir/rabbitmq S=$dir/sftp P=$dir/postgres
free_ports() {   # N distinct free ports, all held open at once while the kernel picks them
  node -e 'const net = require("net"); const s = [];
    for (let i = 0; i < Number(process.argv[1]); i++) s.push(new Promise(r => { const v = net.createServer().listen(0, "127.0.0.1", () => r(v)); }));
    Promise.all(s).then(v => { console.log(v.map(x => x.address().port).join(" ")); v.forEach(x => x.close()); });' "$1"
}
if [ ! -f "$dir/ports" ]; then
  free_ports 6 > "$dir/ports"
  touch "$dir/.loanhub-test-servers"   # stop.sh removes only directories that carry this mark
fi
read -r AMQP_PORT DIST_PORT EPMD_PORT SFTP_PORT PG_PORT MGMT_PORT < "$dir/ports"
if [ -z "$MGMT_PORT" ]; then   # a DIR made when there were five ports: the management API gets a sixth
  MGMT_PORT=$(free_ports 1)
  echo "$AMQP_PORT $DIST_PORT $EPMD_PORT $SFTP_PORT $PG_PORT $MGMT_PORT" > "$dir/ports"
fi

# RabbitMQ: its own node name, ports, epmd, cookie (HOME), data, logs and config; nothing from /etc/rabbitmq.
if [ ! -f "$R/env" ]; then
  mkdir -p "$R/home" "$R/log"
  cat > "$R/env" <<EOF
export HOME='$R/home'
export RABBITMQ_NODENAME='loanhub-test-$AMQP_PORT@localhost'
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$DIST_PORT
export ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
export RABBITMQ_MNESIA_BASE='$R/mnesia' RABBITMQ_LOG_BASE='$R/log' RABBITMQ_PID_FILE='$R/rabbitmq.pid'
export RABBITMQ_CONFIG_FILE='$R/rabbitmq.conf' RABBITMQ_ENABLED_PLUGINS_FILE='$R/enabled_plugins'
export RABBITMQ_CONF_ENV_FILE='$R/rabbitmq-env.conf'
EOF
  : > "$R/rabbitmq-env.conf"
  cat > "$R/start" <<'EOF'
#!/bin/sh
# Start the private broker (no-op if it is up); returns once it accepts AMQP connections.
set -eu
cd "$(dirname "$0")"; . ./env
ctl() { /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"; }
alive() { s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s#Z}" = "$s" ]; }   # a zombie is not alive
if [ -f "$RABBITMQ_PID_FILE" ] && alive "$(cat "$RABBITMQ_PID_FILE")" && ctl await_startup --timeout 120 >/dev/null 2>&1; then exit 0; fi
rm -f "$RABBITMQ_PID_FILE"
# in the foreground (under setsid) rather than -detached, so boot errors land in console.log
setsid /usr/lib/rabbitmq/bin/rabbitmq-server >> console.log 2>&1 < /dev/null &
launcher=$!
i=0
# await_startup fails at once until the node has registered with epmd, then blocks until it has booted
until ctl await_startup --timeout 120 > /dev/null 2>&1; do
  if ! alive $launcher; then echo "rabbitmq did not start; end of $PWD/console.log:" >&2; tail -15 console.log >&2; exit 1; fi
  i=$((i + 1)); [ $i -lt 240 ] || { echo "rabbitmq not ready after 120 s, see $PWD/console.log" >&2; exit 1; }
  sleep 0.5
done
EOF
  cat > "$R/stop" <<'EOF'
#!/bin/sh
# Stop the private broker gracefully (returns once its OS process has gone); data stays for the next start.
set -u
cd "$(dirname "$0")"; . ./env
/usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" shutdown > /dev/null 2>&1 && exit 0
# not reachable: end whatever is left of it, by its recorded pid
[ -f "$RABBITMQ_PID_FILE" ] || exit 0
pid=$(cat "$RABBITMQ_PID_FILE"); kill -TERM "$pid" 2>/dev/null || exit 0
for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.3; done
kill -KILL "$pid" 2>/dev/null; exit 0
EOF
fi
# written outside the block above so that directories made by an older copy of this script get them too
# The management plugin serves the HTTP API `loanhub queues` reads unacked counts from
# (LOANHUB_AMQP_MANAGEMENT_URL); it listens on loopback only, on the sixth port.
echo '[rabbitmq_management].' > "$R/enabled_plugins"
printf '%s\n' '# guest/guest may log in from 127.0.0.1/::1 only (the default, stated here)' \
  'loopback_users.guest = true' \
  "management.tcp.ip = 127.0.0.1" "management.tcp.port = $MGMT_PORT" > "$R/rabbitmq.conf"
cat > "$R/ctl" <<'EOF'
#!/bin/sh
# rabbitmqctl for the private node (same node name, cookie and epmd), e.g. `ctl list_queues -p VHOST`.
cd "$(dirname "$0")"; . ./env
exec /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"
EOF
cat > "$R/add-vhost" <<'EOF'
#!/bin/sh
# add-vhost NAME: a virtual host of its own for one test suite, open to guest (idempotent).
set -eu
[ $# = 1 ] || { echo "usage: add-vhost NAME" >&2; exit 2; }
d=$(dirname "$0")
"$d/ctl" add_vhost "$1" > /dev/null 2>&1 || "$d/ctl" list_vhosts -q | grep -qx "$1"
"$d/ctl" set_permissions -p "$1" guest '.*' '.*' '.*' > /dev/null
EOF

# OpenSSH: its own host key, client key, authorized_keys, pid file and log; key-only login as root, SFTP only.
if [ ! -f "$S/sshd_config" ]; then
  mkdir -p "$S/root"
  ssh-keygen -q -t ed25519 -N '' -C loanhub-test-host -f "$S/host_key"
  ssh-keygen -q -t ed25519 -N '' -C loanhub-test-client -f "$S/client_key"
  cp "$S/client_key.pub" "$S/authorized_keys"
  cat > "$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SFTP_PORT
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
# /tmp is world-writable: with StrictModes yes, sshd refuses the key file below it ("bad ownership or modes")
StrictModes no
Subsystem sftp internal-sftp
# SFTP only; connections start in $S/root (a ChrootDirectory cannot live under /tmp: every path part must be root-owned, not writable by others)
ForceCommand internal-sftp -d $S/root
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
LogLevel VERBOSE
EOF
  cat > "$S/start" <<'EOF'
#!/bin/sh
# Start the private sshd (no-op if it is up); sshd daemonises once its port is listening.
set -eu
cd "$(dirname "$0")"
alive() { s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s#Z}" = "$s" ]; }
if [ -f sshd.pid ] && alive "$(cat sshd.pid)"; then exit 0; fi
mkdir -p -m 755 /run/sshd   # privilege separation directory, compiled into sshd
/usr/sbin/sshd -f "$PWD/sshd_config" -E "$PWD/sshd.log"
EOF
  cat > "$S/drop-connections" <<'EOF'
#!/bin/sh
# Fault injection: end every open SFTP connection (the listener's children); the listener keeps accepting.
cd "$(dirname "$0")"
[ -f sshd.pid ] || exit 0
for c in $(pgrep -P "$(cat sshd.pid)"); do kill "$c" 2>/dev/null; done; exit 0
EOF
  cat > "$S/stop" <<'EOF'
#!/bin/sh
# Stop the private sshd and its open connections.
cd "$(dirname "$0")"
[ -f sshd.pid ] || exit 0
pid=$(cat sshd.pid)
for c in $(pgrep -P "$pid"); do kill "$c" 2>/dev/null; done
kill "$pid" 2>/dev/null
# wait until it has let go of the port (a zombie holds none), so that a start right after can bind it
i=0; while s=$(ps -o stat= -p "$pid" 2>/dev/null) && [ "${s#Z}" = "$s" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rm -f sshd.pid; exit 0
EOF
fi

# PostgreSQL: a cluster of its own, owned by $PGOSUSER; password login over TCP, trust on its private socket.
if [ ! -f "$P/env" ]; then
  mkdir -p "$P"; chown "$PGOSUSER:" "$P"
  printf "PGBIN='%s'\nPGOSUSER=%s\nPGPORT=%s\n" "$PGBIN" "$PGOSUSER" "$PG_PORT" > "$P/env"
  echo loanhub > "$P/pwfile"; chown "$PGOSUSER" "$P/pwfile"
  t=$(now)
  runuser -u "$PGOSUSER" -- "$PGBIN/initdb" -D "$P/data" -U loanhub --pwfile="$P/pwfile" -A scram-sha-256 \
    --auth-local=trust -E UTF8 --locale=C.UTF-8 -N > "$P/initdb.log" 2>&1 || { cat "$P/initdb.log" >&2; exit 1; }
  rm -f "$P/pwfile"; log "postgres initdb $(since "$t")"
  cat > "$P/start" <<'EOF'
#!/bin/sh
# Start the private cluster (no-op if it is up); pg_ctl -w returns once it accepts connections.
# fsync=off: throwaway test data; a crash of postgres itself loses nothing committed, a crash of the machine may.
set -eu
cd "$(dirname "$0")"; . ./env
state() { ps -o stat= -p "$1" 2>/dev/null; }
if [ -f data/postmaster.pid ]; then
  pid=$(head -1 data/postmaster.pid); s=$(state "$pid") || s=
  if [ -n "$s" ] && [ "${s#Z}" = "$s" ]; then exit 0; fi
  # a killed postmaster can stay a zombie for a moment; postgres takes it for a live one ("lock file already exists")
  i=0; while [ -e "/proc/$pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
runuser -u "$PGOSUSER" -- "$PGBIN/pg_ctl" -D "$PWD/data" -l "$PWD/postgres.log" -w -t 60 \
  -o "-p $PGPORT -k $PWD -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null \
  || { echo "postgres did not start; end of $PWD/postgres.log:" >&2; tail -15 postgres.log >&2; exit 1; }
EOF
  cat > "$P/stop" <<'EOF'
#!/bin/sh
# Stop the private cluster (fast shutdown: open connections are ended); data stays for the next start.
cd "$(dirname "$0")"; . ./env
[ -f data/postmaster.pid ] || exit 0
runuser -u "$PGOSUSER" -- "$PGBIN/pg_ctl" -D "$PWD/data" -m fast -w -t 60 stop > /dev/null 2>&1; exit 0
EOF
  new_pg=1
fi
chmod 755 "$R/start" "$R/stop" "$R/ctl" "$R/add-vhost" "$S/start" "$S/stop" "$S/drop-connections" "$P/start" "$P/stop"

# ---- 3. start: RabbitMQ (about 5 s) in the background while sshd and PostgreSQL come up ----
rabbit_job=
on_exit() {
  rc=$?; [ $rc = 0 ] && return
  [ -z "$rabbit_job" ] || wait "$rabbit_job" 2>/dev/null || true
  "$R/stop"; "$S/stop"; "$P/stop"
  log "failed; servers stopped, logs kept in $dir (remove it with scripts/test-servers/stop.sh $dir)"
}
trap on_exit EXIT
t_all=$(now)
"$R/start" & rabbit_job=$!
t=$(now); "$S/start"; log "sftp ready on 127.0.0.1:$SFTP_PORT in $(since "$t")"
t=$(now); "$P/start"; log "postgres ready on 127.0.0.1:$PG_PORT in $(since "$t")"
if [ -n "${new_pg:-}" ]; then "$PGBIN/createdb" -h "$P" -p "$PG_PORT" -U loanhub loanhub_test; fi
wait $rabbit_job || { rabbit_job=; log "rabbitmq failed"; exit 1; }; rabbit_job=
log "rabbitmq ready on 127.0.0.1:$AMQP_PORT (management API on $MGMT_PORT); all up in $(since "$t_all")"

fp=$(ssh-keygen -lf "$S/host_key.pub" | awk '{ print $2 }')
cat > "$dir/env" <<EOF
LOANHUB_TEST_SERVERS_DIR=$dir
LOANHUB_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT
LOANHUB_TEST_AMQP_MANAGEMENT_URL=http://guest:guest@127.0.0.1:$MGMT_PORT
LOANHUB_TEST_SFTP_URL=sftp://root@127.0.0.1:$SFTP_PORT
LOANHUB_TEST_SFTP_KEY_FILE=$S/client_key
LOANHUB_TEST_SFTP_HOST_FINGERPRINT=$fp
LOANHUB_TEST_SFTP_DIR=$S/root
LOANHUB_TEST_PG_URL=postgres://loanhub:loanhub@127.0.0.1:$PG_PORT/loanhub_test
EOF
cat "$dir/env"
