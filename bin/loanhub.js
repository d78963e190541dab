#!/usr/bin/env node
'use strict';
// The `loanhub` CLI, compiled from cli/ by `npm run build` (npm ci runs it through `prepare`).
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
