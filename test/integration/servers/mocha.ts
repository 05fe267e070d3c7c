// Helpers the real-server suites share: skip a block with a printed reason when a server is not
// installed (never silently; a failure under INFERLINE_REQUIRE_REAL_SERVERS=1), and poll until a
// condition holds.
import { setTimeout as sleep } from 'node:timers/promises';
import { STATUS_FILE, unavailableReason } from './status.js';
import type { ServerName } from './status.js';

export function skipUnlessInstalled(ctx: Mocha.Context, server: ServerName): void {
  const why = unavailableReason(server);
  if (why === undefined) return;
  const line = `real ${server} unavailable (${STATUS_FILE}): ${why}`;
  if (process.env['INFERLINE_REQUIRE_REAL_SERVERS'] === '1') throw new Error(`${line} [INFERLINE_REQUIRE_REAL_SERVERS=1]`);
  console.log(`      SKIP ${line}`);
  ctx.skip();
}

export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await probe())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}
