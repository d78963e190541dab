#!/usr/bin/env bash
# What `npm test` runs: build, typecheck and lint; then start private RabbitMQ, OpenSSH (SFTP) and
# PostgreSQL servers on loopback (scripts/test-servers/start.sh, installing missing Debian packages),
# run jest against them, and stop them on any exit. Extra arguments go to jest:
#   npm test -- test/transport          bash scripts/test.sh --testNamePattern 'broker restart'
# Unattended: no prompts, no stdin. Exits with jest's code (or the first failing step's).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "test.sh: $*" >&2; }

step 'npm run build'; npm run build --silent
step 'npm run typecheck'; npm run typecheck --silent
step 'npm run lint'; npm run lint --silent

# The directory is made here, before the servers start, so that the trap can stop whatever came up
# even when this script is interrupted half-way through starting them.
servers_dir=$(mktemp -d /tmp/loanhub-servers.XXXXXX)
stop_servers() {
  if [ -f "$servers_dir/.loanhub-test-servers" ]; then
    scripts/test-servers/stop.sh "$servers_dir" || step "stopping the test servers failed; see $servers_dir"
  else
    rm -rf "$servers_dir"
  fi
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step 'starting test servers'
env_lines=$(scripts/test-servers/start.sh "$servers_dir" < /dev/null)
while IFS='=' read -r key value; do
  case $key in LOANHUB_TEST_*) export "$key=$value" ;; esac
done <<< "$env_lines"

step "npx jest --ci $*"
rc=0
npx jest --ci "$@" < /dev/null || rc=$?
exit $rc
