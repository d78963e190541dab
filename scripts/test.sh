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
jest_pid=
# bash runs a trap only once the foreground command has ended, so jest runs in the background and the
# script waits for it: a TERM or INT (a CI timeout, Ctrl-C) then ends jest and the servers at once.
on_signal() {
  [ -z "$jest_pid" ] || { kill -TERM "$jest_pid" 2> /dev/null; wait "$jest_pid" 2> /dev/null; }
  exit "$1"
}
trap stop_servers EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

step 'starting test servers'
env_lines=$(scripts/test-servers/start.sh "$servers_dir" < /dev/null)
while IFS='=' read -r key value; do
  case $key in LOANHUB_TEST_*) export "$key=$value" ;; esac
done <<< "$env_lines"

# --forceExit: every suite closes what it opened, but a handle left by a library (a pool's idle timer, a
# child's pipe) must not hold CI until its timeout once the results are in (seen: 'Jest did not exit').
run_jest() {
  node_modules/.bin/jest --ci --forceExit "$@" < /dev/null &   # not npx: its pid would not be the one that ends jest
  jest_pid=$!
  local code=0
  wait "$jest_pid" || code=$?
  jest_pid=
  return $code
}
rc=0
if [ $# -eq 0 ]; then
  # The whole suite on two workers (most end-to-end suites wait on their processes), except the suites
  # that break a shared test server on purpose: they stop and start the RabbitMQ node (stream-faults,
  # rabbitmq-transport) or cut every open SFTP connection (upload-dropped-connection), which would hit
  # whatever suite ran beside them. Those run afterwards, one at a time.
  disruptive=(test/e2e/stream-faults.test.ts test/transport/rabbitmq-transport.test.ts
    test/batch/upload-dropped-connection.test.ts)
  step "jest --ci --maxWorkers=2 (all but ${disruptive[*]})"
  run_jest --maxWorkers=2 --testPathIgnorePatterns 'stream-faults\.test' 'rabbitmq-transport\.test' \
    'upload-dropped-connection\.test' || rc=$?
  step "jest --ci --runInBand ${disruptive[*]}"
  run_jest --runInBand -- "${disruptive[@]}" || { code=$?; [ "$rc" -ne 0 ] || rc=$code; }
else
  step "jest --ci $*"
  run_jest "$@" || rc=$?
fi

# The second pass: every suite that runs a hub runs again with the hub's store on the test PostgreSQL
# (LOANHUB_TEST_STORE=postgres: test/integration/hub-fixture.ts gives each test hub, and
# test/e2e/process-harness.ts each stack of processes, a schema of its own and passes LOANHUB_DB_URL /
# LOANHUB_DB_SCHEMA on to every `loanhub` process they start; tests read the hub's rows through
# test/integration/hub-db.ts, whichever store it is). That is the whole of test/integration, test/e2e and
# test/api, and the hub-using suites of the other directories. Not again: the contract suite
# (test/store/contract, on both stores in the first pass), two-serve-postgres (PostgreSQL only, first
# pass), suites about SQLite itself or that run no hub, and the store-free test/api suites below. A chosen subset (`npm test -- <paths>`) skips
# this pass; to run it by hand: LOANHUB_TEST_STORE=postgres npx jest <paths> with the servers' variables.
if [ $# -eq 0 ]; then
  pg_suites=(test/integration test/e2e test/api test/webhooks/hub-webhooks.test.ts test/batch/embedded-night.test.ts
    test/batch/mainframe-night.test.ts test/reports/daily-statement.test.ts test/ops/ops-api.test.ts
    test/metrics/hub-metrics.test.ts test/metrics/rabbitmq-queue-metrics.test.ts)
  # test/api suites whose hub never reaches its store's tables (the OpenAPI document and its generated
  # client, token forgery, log masking, the error catalogue, policy files): once is enough
  store_free=('test/api/(openapi|openapi-tooling|forged-tokens|log-masking|error-docs|policy-loading)\.test')
  # Two workers as in the first pass, stream-faults (it restarts the RabbitMQ node) on its own after.
  step "jest --ci --maxWorkers=2 on the PostgreSQL store: ${pg_suites[*]} (all but stream-faults)"
  pg_rc=0
  LOANHUB_TEST_STORE=postgres run_jest --maxWorkers=2 --testPathIgnorePatterns two-serve-postgres \
    'stream-faults\.test' "${store_free[@]}" -- "${pg_suites[@]}" || pg_rc=$?
  step 'jest --ci --runInBand on the PostgreSQL store: test/e2e/stream-faults.test.ts'
  LOANHUB_TEST_STORE=postgres run_jest --runInBand -- test/e2e/stream-faults.test.ts ||
    { code=$?; [ "$pg_rc" -ne 0 ] || pg_rc=$code; }
  [ "$rc" -ne 0 ] || rc=$pg_rc
fi
exit $rc
