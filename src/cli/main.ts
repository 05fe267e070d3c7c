#!/usr/bin/env node
// Entry point of the `inferline` binary.
import { main } from './program.js';

// A closed pipe (`inferline plan … | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Background timers (a retry's backoff, a loop's tick) are unref'd so that they never hold a
// finished process open; this one holds it open until the command is done, so that Node cannot
// exit half-way through with no exit status set (it would be 0).
const keepAlive = setInterval(() => undefined, 1 << 30);

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`inferline: ${String(err)}\n`);
    process.exitCode = 1;
  },
).finally(() => clearInterval(keepAlive));
