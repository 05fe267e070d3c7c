// TF Serving's REST API over the shared HttpClient (raw bodies; parse.ts reads them), and the
// runner for the operator's restart and scale commands. TF Serving changes neither batching nor
// replication through its own API (C.7, D), so those two go through commands.
import { spawn } from 'node:child_process';
import type { HttpClient, HttpRequest, HttpResponse } from '../common/http.js';

export interface Fetched {
  /** "GET /v1/models/m", as AdapterErrors name it. */
  readonly endpoint: string;
  readonly res: HttpResponse;
}

export class TfServingClient {
  constructor(
    private readonly http: HttpClient,
    private readonly metricsPath: string,
  ) {}

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  private async send(req: HttpRequest): Promise<Fetched> {
    return { endpoint: this.http.endpointOf(req), res: await this.http.request(req) };
  }

  /** Model status (C.2): every version's state. 404 when the server does not know the model. */
  modelStatus(model: string): Promise<Fetched> {
    return this.send({ method: 'GET', path: `/v1/models/${encodeURIComponent(model)}` });
  }

  modelMetadata(model: string): Promise<Fetched> {
    return this.send({ method: 'GET', path: `/v1/models/${encodeURIComponent(model)}/metadata` });
  }

  /** Row-format predict. Not retried: a probe measures one request. */
  predict(model: string, instances: readonly unknown[], timeoutMs: number): Promise<Fetched> {
    return this.send({ method: 'POST', path: `/v1/models/${encodeURIComponent(model)}:predict`, body: { instances }, timeoutMs, idempotent: false });
  }

  /** The Prometheus page; 404 is an answer (monitoring not enabled), not a failure. */
  metrics(): Promise<Fetched> {
    return this.send({ method: 'GET', path: this.metricsPath, accept: [404] });
  }
}

export interface CommandResult {
  /** Exit code, or null when a signal ended the command. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly stdoutTail: string;
  readonly stderrTail: string;
}

const TAIL_CHARS = 4000;
const KILL_GRACE_MS = 2000;

/**
 * Runs argv directly (no shell, so model names cannot inject anything). The command gets its own
 * process group so a timeout ends what it started too: SIGTERM, then SIGKILL after a grace period.
 * Rejects only when the command cannot start (ENOENT, EACCES).
 */
export function runCommand(argv: readonly string[], timeoutMs: number): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdoutTail = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdoutTail = (stdoutTail + c).slice(-TAIL_CHARS)));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderrTail = (stderrTail + c).slice(-TAIL_CHARS)));
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal); // the group is gone or was never made: the child alone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(killTimer);
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('close', (exitCode, signal) => {
      done();
      resolve({ exitCode, signal, timedOut, stdoutTail, stderrTail });
    });
  });
}
