// A real Prometheus for the integration test: where .ci/install-prometheus.sh found it, a
// generated scrape config (every second) and a temporary storage directory, started on a free
// loopback port, queried over its HTTP API, and stopped by pid.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../servers/status.js';
import { freePort, httpRequest, logTail, processAlive, spawnGroup, stopGroup, waitUntil } from '../servers/process.js';
import type { GroupProcess } from '../servers/process.js';

/** Written by .ci/install-prometheus.sh; INFERLINE_PROMETHEUS_STATUS points elsewhere (to test the skip path). */
export const PROMETHEUS_STATUS_FILE = process.env['INFERLINE_PROMETHEUS_STATUS'] ?? join(REPO_ROOT, '.ci', 'out', 'prometheus.json');
const HOW = 'run `bash .ci/install-prometheus.sh` (installs the Debian package prometheus)';

export interface PrometheusInstall {
  readonly bin: string;
  readonly version: string;
}

/** The installed Prometheus, or why there is none. Never throws. */
export function findPrometheus(file = PROMETHEUS_STATUS_FILE): PrometheusInstall | { readonly reason: string } {
  if (existsSync(file)) {
    try {
      const raw = (JSON.parse(readFileSync(file, 'utf8')) as { prometheus?: { ok?: boolean; reason?: string; bin?: string; version?: string } }).prometheus ?? {};
      if (raw.ok !== true) return { reason: raw.reason || 'not installed' };
      if (!raw.bin || !existsSync(raw.bin)) return { reason: `${file} names ${String(raw.bin)}, which is missing: ${HOW}` };
      return { bin: raw.bin, version: raw.version ?? '' };
    } catch (err) {
      return { reason: `${file} is not valid JSON (${(err as Error).message}): ${HOW}` };
    }
  }
  // No status file (the install script has not run here): a prometheus on PATH will do.
  try {
    const bin = execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
    if (bin !== '') return { bin, version: execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '' };
  } catch {
    // not on PATH either
  }
  return { reason: `${file} not found and no prometheus on PATH: ${HOW}` };
}

export interface QueryResult {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export class RealPrometheus {
  private constructor(readonly url: string, readonly process: GroupProcess) {}

  /** Starts Prometheus scraping `targets` every second; resolves once it is ready. */
  static async start(install: PrometheusInstall, dir: string, targets: readonly string[]): Promise<RealPrometheus> {
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: inferline',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'));
    const proc = spawnGroup(install.bin, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { cwd: dir, env: process.env, logFile: join(dir, 'prometheus.log') });
    const prom = new RealPrometheus(`http://127.0.0.1:${port}`, proc);
    try {
      await waitUntil('Prometheus ready', async () => (await httpRequest(`${prom.url}/-/ready`, { timeoutMs: 2000 })).status === 200, {
        timeoutMs: 60_000,
        failed: () => {
          const exit = proc.exited();
          return exit === undefined ? undefined : `exited (${exit.code ?? exit.signal}):\n${logTail(proc.logFile)}`;
        },
      });
    } catch (err) {
      await prom.stop();
      throw err;
    }
    return prom;
  }

  /** An instant query. @throws when Prometheus answers with an error (a bad expression). */
  async query(expr: string): Promise<QueryResult[]> {
    const res = await httpRequest(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { timeoutMs: 10_000 });
    const body = JSON.parse(res.text) as {
      status: string; error?: string; errorType?: string; warnings?: string[];
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] | [number, string] };
    };
    if (body.status !== 'success') throw new Error(`Prometheus: ${body.errorType ?? ''} ${body.error ?? res.text} — in: ${expr}`);
    if (body.data?.resultType === 'scalar') return [{ metric: {}, value: Number((body.data.result as [number, string])[1]) }];
    return ((body.data?.result ?? []) as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The scrape targets as Prometheus sees them. */
  async targets(): Promise<{ health: string; scrapeUrl: string; lastError: string }[]> {
    const res = await httpRequest(`${this.url}/api/v1/targets`, { timeoutMs: 10_000 });
    return (JSON.parse(res.text) as { data: { activeTargets: { health: string; scrapeUrl: string; lastError: string }[] } }).data.activeTargets;
  }

  /** Stops Prometheus by its pid (the leader of its process group) and waits until it is gone. */
  async stop(): Promise<void> {
    await stopGroup(this.process.pid, 10_000);
    if (processAlive(this.process.pid)) throw new Error(`Prometheus (pid ${this.process.pid}) still running`);
  }
}

/**
 * The Prometheus install for a suite's before hook, or the hook skips the suite with the reason
 * printed (a failure instead under INFERLINE_REQUIRE_PROMETHEUS=1).
 */
export function prometheusOrSkip(ctx: Mocha.Context): PrometheusInstall {
  const found = findPrometheus();
  if (!('reason' in found)) return found;
  const line = `real Prometheus unavailable (${PROMETHEUS_STATUS_FILE}): ${found.reason}`;
  if (process.env['INFERLINE_REQUIRE_PROMETHEUS'] === '1') throw new Error(`${line} [INFERLINE_REQUIRE_PROMETHEUS=1]`);
  console.log(`      SKIP ${line}`);
  return ctx.skip();
}
