// One `inferline` command as a child process of its own: node runs src/cli/main directly (with
// tsx's loader when this file is TypeScript), as the leader of a new process group, with an IPC
// channel that neither keeps this process alive nor outlives it (a child that watches the channel
// stops when this process ends, however it ends). stopCliProcess ends the group (SIGTERM, then
// SIGKILL after a grace period) and waits until every member is gone; groups still alive when
// this process exits are SIGKILLed. The emulated fleet (fleet-processes.ts) and the demo's agents
// and load generator start their children through here.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliProcessOptions {
  /** stdout and stderr are appended to it. */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Node options before the script, e.g. ['--import', probe]. */
  readonly execArgv?: readonly string[];
  /** Messages the child sends over its IPC channel. */
  readonly onMessage?: (message: unknown) => void;
  /** Run this script instead of the CLI (a module of this package, .ts under tsx). */
  readonly script?: string;
}

export interface CliProcess {
  /** The leader of its process group. */
  readonly pid: number;
  readonly logFile: string;
  /** Why it exited, once it has. */
  exited(): string | undefined;
  /** Sends over the IPC channel; false when it is closed. */
  send(message: unknown): boolean;
}

/** Process groups started here and not yet stopped; SIGKILLed if this process exits first. */
const live = new Set<number>();
let exitHook = false;

export function spawnCliProcess(args: readonly string[], options: CliProcessOptions): CliProcess {
  installExitHook();
  const fd = openSync(options.logFile, 'a');
  let exit: string | undefined;
  try {
    const entry = cliEntry();
    const script = options.script === undefined ? entry.main : sourceFile(options.script);
    const child = spawn(process.execPath, [...entry.loader, ...(options.execArgv ?? []), script, ...args], {
      cwd: entry.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    if (child.pid === undefined) throw new Error(`could not start ${args.join(' ')} (see ${options.logFile})`);
    child.on('exit', (code, signal) => { exit = `exited with ${signal ?? `code ${String(code)}`}`; });
    child.on('error', (err) => { exit ??= `failed: ${err.message}`; });
    if (options.onMessage) child.on('message', options.onMessage);
    // Neither the child nor its channel keeps this process alive; the channel is there so that
    // the child sees this process end.
    child.unref();
    child.channel?.unref();
    live.add(child.pid);
    return {
      pid: child.pid,
      logFile: options.logFile,
      exited: () => exit,
      send: (message) => {
        if (!child.connected) return false;
        try {
          return child.send(message as never);
        } catch {
          return false;
        }
      },
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * How to run a module of this package: its .js with node, or its .ts with tsx's loader (tests, tsx
 * runs); and the directory to run in, from which node resolves `--import tsx` (the package root).
 */
function cliEntry(): { loader: string[]; main: string; cwd: string } {
  const here = fileURLToPath(import.meta.url);
  const root = path.resolve(path.dirname(here), '..', '..');
  const ts = here.endsWith('.ts');
  return { loader: ts ? ['--import', 'tsx'] : [], main: sourceFile(path.join(path.dirname(here), '..', 'cli', 'main.js')), cwd: root };
}

/** A module path as this build runs it: `x.js` becomes `x.ts` when this file is TypeScript. */
export function sourceFile(jsPath: string): string {
  return fileURLToPath(import.meta.url).endsWith('.ts') ? jsPath.replace(/\.js$/, '.ts') : jsPath;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the group is gone. */
export async function stopCliProcess(pgid: number, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch { /* gone */ }
  };
  const waitGone = async (ms: number): Promise<void> => {
    const t0 = Date.now();
    while (groupAlive(pgid) && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 25));
  };
  signal('SIGTERM');
  await waitGone(graceMs);
  if (groupAlive(pgid)) {
    signal('SIGKILL');
    await waitGone(5_000);
  }
  live.delete(pgid);
  if (groupAlive(pgid)) throw new Error(`process group ${pgid} still alive after SIGKILL`);
}

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const pgid of live) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch { /* gone */ }
    }
  });
}
