#!/usr/bin/env node
// Entry point of the `inferline` binary.
import { main } from './program.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`inferline: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
