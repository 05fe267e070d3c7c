// Starts a REAL Triton 2.51.0 (the `tritonserver` binary from the nvidia-pytriton 0.7.0 wheel,
// installed by .ci/install-servers.sh) on CPU, python backend only, on free loopback ports, in its
// own temp dir and process group, and stops it again.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, groupMembers, httpRequest, logTail, spawnGroup, stopGroup, waitUntil } from './process.js';
import { SERVERS_DIR, serversStatus, unavailableReason, VENV_DIR } from './status.js';

const execFileP = promisify(execFile);

/** The model repository in git; each start copies the chosen models into a temp repository. */
export const TRITON_REPO_SOURCE = join(SERVERS_DIR, 'triton');

/**
 * The models in TRITON_REPO_SOURCE, for `models`: 'matmul' (numpy work per row) and 'sleep'
 * (a sleep of 4 + 1·k ms for a batch of k rows, max batch 8, dynamic batching with a 2 ms delay).
 */
export const TRITON_MODELS = ['matmul', 'sleep'] as const;

export interface TritonOptions {
  /** --model-control-mode. Default 'explicit' (the load/unload API works only there). */
  readonly controlMode?: 'explicit' | 'none' | 'poll';
  /**
   * explicit mode: models to load at startup (--load-model=...). Default ['*'] (all); [] loads
   * none. Ignored in 'none'/'poll' mode, which load everything in the repository.
   */
  readonly loadModels?: readonly string[];
  /** Model directories to copy from TRITON_REPO_SOURCE (see TRITON_MODELS). Default ['matmul']. */
  readonly models?: readonly string[];
  /**
   * Byte-compile model.py files before start (default true). Without it the stub writes
   * 1/__pycache__ during the first load, which changes the model directory's mtime, so Triton's
   * FIRST config-override load after start does a full reload instead of an in-place instance
   * update (observed here; see test/integration/README.md).
   */
  readonly precompile?: boolean;
  /** Extra tritonserver flags, appended last. */
  readonly extraArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** --exit-timeout-secs: how long SIGTERM waits for in-flight requests. Default 2. */
  readonly exitTimeoutSecs?: number;
  /** Readiness deadline (default 90 s; ~2 s here for one model). */
  readonly startupTimeoutMs?: number;
  readonly keepTempDir?: boolean;
}

export interface TritonStub {
  readonly pid: number;
  /** Instance name as Triton passes it to the stub, e.g. 'matmul_0_1'. */
  readonly instance: string;
  /** The model.py path the stub runs. */
  readonly modelPath: string;
}

export interface TritonHandle {
  /** KServe-v2 REST + Triton extensions. */
  readonly httpUrl: string;
  /** Prometheus text at `${metricsUrl}/metrics`. */
  readonly metricsUrl: string;
  readonly grpcPort: number;
  /** pid of tritonserver; also the process group id of its python-backend stubs. */
  readonly pid: number;
  readonly repoDir: string;
  readonly workDir: string;
  readonly logFile: string;
  readonly args: readonly string[];
  /** The python-backend stub processes now running (one per model instance, plus short-lived auto-complete stubs). */
  stubs(model?: string): TritonStub[];
  /** SIGTERM the group (Triton waits up to --exit-timeout-secs), SIGKILL after 15 s; remove the temp dir. */
  stop(): Promise<void>;
}

/** Starts a real Triton. Rejects (with the log path and its tail) if it is not ready in time. */
export async function startTriton(opts: TritonOptions = {}): Promise<TritonHandle> {
  const status = serversStatus();
  const why = unavailableReason('triton', status);
  if (why !== undefined) throw new Error(`Triton unavailable: ${why}`);
  const inst = status.triton;
  const mode = opts.controlMode ?? 'explicit';
  const workDir = mkdtempSync(join(tmpdir(), 'inferline-triton-'));
  const repoDir = join(workDir, 'repo');
  const logFile = join(workDir, 'triton.log');
  mkdirSync(repoDir, { recursive: true });
  for (const m of opts.models ?? ['matmul']) {
    cpSync(join(TRITON_REPO_SOURCE, m), join(repoDir, m), { recursive: true });
  }
  if (opts.precompile ?? true) {
    await execFileP(join(VENV_DIR, 'bin', 'python'), ['-m', 'compileall', '-q', repoDir], { timeout: 60_000 });
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${inst.pathPrepend}:${process.env.PATH ?? ''}`,
    LD_LIBRARY_PATH: [inst.ldLibraryPath, process.env.LD_LIBRARY_PATH].filter((s) => s).join(':'),
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    ...opts.env,
  };

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const [http, grpc, metrics] = (await freePorts(3)) as [number, number, number];
    const args = [
      `--model-repository=${repoDir}`,
      `--backend-directory=${inst.backendDir}`,
      `--model-control-mode=${mode}`,
      ...(mode === 'explicit' ? (opts.loadModels ?? ['*']).map((m) => `--load-model=${m}`) : []),
      '--http-address=127.0.0.1', `--http-port=${http}`,
      '--grpc-address=127.0.0.1', `--grpc-port=${grpc}`,
      '--metrics-address=127.0.0.1', `--metrics-port=${metrics}`,
      '--allow-gpu-metrics=false',
      '--backend-config=python,shm-default-byte-size=4194304',
      `--exit-timeout-secs=${opts.exitTimeoutSecs ?? 2}`,
      '--log-verbose=0',
      ...(opts.extraArgs ?? []),
    ];
    const proc = spawnGroup(inst.bin, args, { cwd: workDir, env, logFile });
    const httpUrl = `http://127.0.0.1:${http}`;
    try {
      await waitUntil(
        `Triton not ready (log: ${logFile})`,
        async () => (await httpRequest(`${httpUrl}/v2/health/ready`, { timeoutMs: 5_000 })).status === 200,
        {
          timeoutMs: opts.startupTimeoutMs ?? 90_000,
          failed: () => {
            const ex = proc.exited();
            return ex === undefined ? undefined : `tritonserver exited (code ${ex.code}, signal ${ex.signal}) (log: ${logFile})`;
          },
        },
      );
    } catch (e) {
      await stopGroup(proc.pid).catch(() => undefined);
      const tail = logTail(logFile, 30);
      lastError = new Error(`${(e as Error).message}\n--- last lines of ${logFile} ---\n${tail}`);
      if (/Address already in use|failed to start .* service/i.test(tail) && attempt < 3) continue;
      break;
    }

    let stopped = false;
    return {
      httpUrl,
      metricsUrl: `http://127.0.0.1:${metrics}`,
      grpcPort: grpc,
      pid: proc.pid,
      repoDir,
      workDir,
      logFile,
      args,
      stubs: (model) => groupMembers(proc.pid)
        .filter((m) => (m.argv[0] ?? '').endsWith('triton_python_backend_stub'))
        .map((m) => ({ pid: m.pid, modelPath: m.argv[1] ?? '', instance: m.argv[m.argv.length - 2] ?? '' }))
        .filter((s) => model === undefined || s.modelPath.startsWith(join(repoDir, model) + '/')),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopGroup(proc.pid);
        if (!opts.keepTempDir) rmSync(workDir, { recursive: true, force: true });
      },
    };
  }
  rmSync(repoDir, { recursive: true, force: true }); // the log named in the error stays
  throw lastError ?? new Error(`Triton did not start (log: ${logFile})`);
}
