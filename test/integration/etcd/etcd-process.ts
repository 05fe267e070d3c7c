// A real etcd for the integration tests: one member on free loopback ports (client and peer),
// its data dir in a temp dir, started detached in its own process group and stopped by pid.
// stop() and start() again on the same ports and data dir is an outage and a recovery.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, logTail, spawnGroup, stopGroup, waitUntil, type GroupProcess } from '../servers/process.js';
import { REPO_ROOT } from '../servers/status.js';

/** Written by .ci/install-services.sh. */
export const SERVICES_STATUS = process.env['INFERLINE_SERVICES_STATUS'] ?? join(REPO_ROOT, '.ci', 'out', 'services.json');

/** The etcd binary: the one the install script found, else `etcd` on PATH; or why there is none. */
export function findEtcd(): { bin: string } | { why: string } {
  let reason = `${SERVICES_STATUS} not found (run \`bash .ci/install-services.sh\`)`;
  if (existsSync(SERVICES_STATUS)) {
    try {
      const status = JSON.parse(readFileSync(SERVICES_STATUS, 'utf8')) as { etcd?: { ok?: boolean; bin?: string; reason?: string } };
      if (status.etcd?.ok === true && typeof status.etcd.bin === 'string' && existsSync(status.etcd.bin)) return { bin: status.etcd.bin };
      reason = `install-services.sh: ${status.etcd?.reason ?? 'no etcd entry'}`;
    } catch (e) {
      reason = `${SERVICES_STATUS} is not valid JSON (${(e as Error).message})`;
    }
  }
  try {
    const bin = execFileSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' }).trim();
    if (bin !== '') return { bin };
  } catch {
    // not on PATH either
  }
  return { why: `etcd is not installed (${reason}; not on PATH either)` };
}

/**
 * The etcd binary for a suite's before hook, or the hook skips the suite with the reason printed
 * (a failure instead under INFERLINE_REQUIRE_SERVICES=1).
 */
export function etcdOrSkip(ctx: Mocha.Context): string {
  const found = findEtcd();
  if ('bin' in found) return found.bin;
  if (process.env['INFERLINE_REQUIRE_SERVICES'] === '1') throw new Error(`${found.why} [INFERLINE_REQUIRE_SERVICES=1]`);
  console.log(`      SKIP real etcd unavailable: ${found.why}`);
  return ctx.skip();
}

export interface EtcdHandle {
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  pid(): number | undefined;
  /** Starts (again) on the same ports and data dir; resolves once /health says true. */
  start(): Promise<void>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** stop() and remove the temp dir. */
  dispose(): Promise<void>;
}

export async function startEtcd(bin: string): Promise<EtcdHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-etcd-'));
  const [clientPort, peerPort] = await freePorts(2) as [number, number];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFile = join(dir, 'etcd.log');
  let proc: GroupProcess | undefined;
  const handle: EtcdHandle = {
    endpoint, clientPort, peerPort, dataDir: join(dir, 'data'), logFile,
    pid: () => proc?.pid,
    async start() {
      if (proc !== undefined) return;
      proc = spawnGroup(bin, [
        '--name', 'test', '--data-dir', join(dir, 'data'),
        '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
        '--logger', 'zap', '--log-level', 'warn',
      ], { cwd: dir, env: { ...process.env, ...(process.arch === 'arm64' ? { ETCD_UNSUPPORTED_ARCH: 'arm64' } : {}) }, logFile });
      const started = proc;
      await waitUntil(`etcd on ${endpoint}`, async () => {
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      }, {
        timeoutMs: 30_000, intervalMs: 100,
        failed: () => (started.exited() ? `etcd exited: ${logTail(logFile, 15)}` : undefined),
      });
    },
    async stop(graceMs = 10_000) {
      const p = proc;
      proc = undefined;
      if (p !== undefined) await stopGroup(p.pid, graceMs);
    },
    async dispose() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}
