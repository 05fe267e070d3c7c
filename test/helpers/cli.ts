// Runs the real `inferline` program in-process, capturing what it writes and its exit code.
import { main } from '../../src/cli/program.js';

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
