// Process plumbing shared by the real-server fixtures: free ports, a detached process group per
// server with its output in a log file, bounded readiness polling, and a stop that ends the whole
// group and waits until every member is gone.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

/** `n` distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n && tries < n * 20; tries += 1) ports.add(await freePort());
  if (ports.size < n) throw new Error(`could not find ${n} distinct free ports`);
  return [...ports];
}

/** Servers started by this process, ended (SIGKILL to the group) if the test process exits early. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const pgid of liveGroups) {
      try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
    }
    liveGroups.clear();
  };
  process.on('exit', killAll);
  // A signal ends Node without 'exit'; the servers run in their own sessions and would outlive
  // it. End them, then die of the same signal as before.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

export interface GroupProcess {
  /** pid of the leader, which is also the process group id. */
  readonly pid: number;
  readonly logFile: string;
  /** Set once the leader has exited. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/** Starts `cmd` detached in a new process group (setsid), stdout+stderr appended to `logFile`. */
export function spawnGroup(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): GroupProcess {
  installExitHook();
  const fd = openSync(opts.logFile, 'a');
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${cmd} (see ${opts.logFile})`);
    child.on('exit', (code, signal) => { exit = { code, signal }; });
    child.on('error', () => { exit ??= { code: null, signal: null }; });
    child.unref();
    liveGroups.add(child.pid);
    const pid = child.pid;
    return { pid, logFile: opts.logFile, exited: () => exit };
  } finally {
    closeSync(fd);
  }
}

/** True while any process of group `pgid` exists (zombies of our own children are reaped by Node). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while process `pid` exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Processes of group `pgid`, with their argv (read from /proc). */
export function groupMembers(pgid: number): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] = state, [1] = ppid, [2] = pgrp
      if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter((s) => s.length > 0);
      out.push({ pid: Number(name), argv });
    } catch { /* the process ended while we looked */ }
  }
  return out;
}

/**
 * Ends the whole group: SIGTERM, wait up to `graceMs`, then SIGKILL, and wait until no member is
 * left (at most `graceMs + 10 s`). Throws if the group survives SIGKILL.
 */
export async function stopGroup(pgid: number, graceMs = 15_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try { process.kill(-pgid, sig); } catch { /* gone */ }
  };
  if (groupAlive(pgid)) {
    signal('SIGTERM');
    const t0 = Date.now();
    while (groupAlive(pgid) && Date.now() - t0 < graceMs) await sleep(100);
    if (groupAlive(pgid)) {
      signal('SIGKILL');
      const t1 = Date.now();
      while (groupAlive(pgid) && Date.now() - t1 < 10_000) await sleep(100);
    }
  }
  if (groupAlive(pgid)) throw new Error(`process group ${pgid} still alive after SIGKILL`);
  liveGroups.delete(pgid);
}

/** The last `lines` lines of a log file ('' if it does not exist). */
export function logTail(file: string, lines = 40): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Polls `probe` every `intervalMs` until it returns true. Fails early when `failed()` returns a
 * reason (e.g. the server process exited), and at `deadlineMs` after the start.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; failed?: () => string | undefined },
): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const why = opts.failed?.();
    if (why !== undefined) throw new Error(`${what}: ${why}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() - t0 > opts.timeoutMs) throw new Error(`${what}: not within ${opts.timeoutMs} ms`);
    await sleep(opts.intervalMs ?? 250);
  }
}

/** fetch with a timeout; never throws for HTTP status codes. */
export async function httpRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    signal: AbortSignal.timeout(init.timeoutMs ?? 120_000),
  });
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => { headers[k] = v; });
  return { status: res.status, headers, text };
}
