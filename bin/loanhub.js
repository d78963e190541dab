#!/usr/bin/env node
'use strict';
// The `loanhub` CLI, compiled from cli/ by `npm run build` (npm ci runs it through `prepare`).

// A reader that stops early (`loanhub loans sample | head -3`) closes the pipe, and the next write fails
// with EPIPE. Every command then ends quietly with the status it had (0 unless it already failed): the
// reader has what it asked for, a pipeline's status is the reader's own, and `set -o pipefail` scripts
// that cut output short keep working. Any other stream error stays loud.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

require('../dist/cli/main.js')
  .main(process.argv)
  .then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`loanhub: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
