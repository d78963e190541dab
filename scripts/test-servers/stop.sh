#!/usr/bin/env bash
# Stop the servers that scripts/test-servers/start.sh started in DIR, each by its own pid file or
# control command (nothing is killed by name), then remove DIR.
#   scripts/test-servers/stop.sh [DIR]      (default: $LOANHUB_TEST_SERVERS_DIR)
set -u
dir=${1:-${LOANHUB_TEST_SERVERS_DIR:-}}
[ -n "$dir" ] || { echo "usage: scripts/test-servers/stop.sh DIR" >&2; exit 2; }
[ -d "$dir" ] || exit 0
[ -f "$dir/.loanhub-test-servers" ] || { echo "test-servers: $dir was not made by scripts/test-servers/start.sh" >&2; exit 2; }
[ -x "$dir/rabbitmq/stop" ] && "$dir/rabbitmq/stop"
if [ -f "$dir/rabbitmq/env" ]; then   # the broker's private epmd outlives the node: end it through its own port
  ( . "$dir/rabbitmq/env"; epmd -port "$ERL_EPMD_PORT" -kill > /dev/null 2>&1 )
fi
[ -x "$dir/sftp/stop" ] && "$dir/sftp/stop"
[ -x "$dir/postgres/stop" ] && "$dir/postgres/stop"
rm -rf "$dir"
