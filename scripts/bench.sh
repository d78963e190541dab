#!/usr/bin/env bash
# `npm run bench`: the benchmarks (not timed tests). Each prints its figures; docs/benchmarks.md keeps
# the ones we wrote down. Run on an otherwise idle machine: absolute figures move from run to run, so
# compare the ratios each benchmark measures in one run.
#   npm run bench                 all of them
#   npm run bench -- api          one: api | report | recon | copybook | webhooks | rabbitmq | batch | report
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
npm run build --silent

run() { echo "== $1" >&2; shift; node "$@"; }

if [[ $which == all || $which == api ]]; then run 'API: accepted payments/s vs bare Express' dist/bench/api-bench.js; fi
if [[ $which == all || $which == report ]]; then run 'daily statement: GROUP BY + renderers vs rows in memory, peak RSS' dist/bench/report-bench.js; fi
if [[ $which == all || $which == recon ]]; then run 'reconciliation: N payments x 4 sources vs GNU sort+join, peak RSS' dist/bench/recon-bench.js; fi
if [[ $which == all || $which == copybook ]]; then run 'copybook codec vs plain table translation' dist/bench/copybook-bench.js; fi
if [[ $which == all || $which == webhooks ]] && [[ -f dist/bench/webhook-bench.js ]]; then
  run 'webhooks delivered/s to a local receiver' dist/bench/webhook-bench.js
fi
servers_dir=
with_servers() {
  # The private RabbitMQ / OpenSSH / PostgreSQL on loopback that the tests use, stopped on any exit.
  [[ -n $servers_dir ]] && return 0
  servers_dir=$(mktemp -d /tmp/loanhub-bench-servers.XXXXXX)
  trap 'scripts/test-servers/stop.sh "$servers_dir" >/dev/null 2>&1 || true' EXIT
  while IFS='=' read -r key value; do
    case $key in LOANHUB_TEST_*) export "$key=$value" ;; esac
  done <<< "$(scripts/test-servers/start.sh "$servers_dir" < /dev/null)"
}
if [[ $which == all || $which == rabbitmq ]] && [[ -f dist/bench/rabbitmq-e2e-bench.js ]]; then
  with_servers
  run 'RabbitMQ end to end: applied payments/s, 201 -> APPLIED latency' dist/bench/rabbitmq-e2e-bench.js
fi
if [[ $which == all || $which == batch ]]; then
  # BENCH_BATCH_SIZES=100000,1000000 by default (the 1M run seeds ~1M rows first: a few minutes).
  with_servers
  run 'nightly batch: build + verified SFTP upload vs OpenSSH sftp put, peak RSS' dist/bench/batch-bench.js
fi
