// Runs the real `inferline` program in-process, capturing what it writes and its exit code.
import { main } from '../../src/cli/program.js';
import type { Profilable } from '../../src/ports/server-adapter.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (s) => { stdout += s; }, err: (s) => { stderr += s; } });
  return { code, stdout, stderr };
}

/** A stack frame line, which bad input must never print. */
export const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** Runs the CLI while `adapter` keeps sending batches (cycling through `sizes`) to `model`: live traffic. */
export async function runCliWithTraffic(
  adapter: Profilable, model: string, args: readonly string[], sizes: readonly number[] = [2],
): Promise<CliRun> {
  let done = false;
  const traffic = (async () => {
    for (let i = 0; !done; i++) {
      await adapter.infer(model, { batchSize: sizes[i % sizes.length] as number, data: 'zero', timeoutMs: 5000 }).catch(() => undefined);
    }
  })();
  try {
    return await runCli(args);
  } finally {
    done = true;
    await traffic;
  }
}
