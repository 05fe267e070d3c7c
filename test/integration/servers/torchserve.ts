// Starts a REAL TorchServe 0.12.0 (installed by .ci/install-servers.sh) on free loopback ports,
// in its own temp dir and process group, with token authorization ON, and stops it again.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  freePorts, groupMembers, httpRequest, logTail, spawnGroup, stopGroup, waitUntil,
} from './process.js';
import { SERVERS_DIR, serversStatus, unavailableReason, VENV_DIR } from './status.js';

const execFileP = promisify(execFile);

/** The handler in git: matrix multiplications per item, so batch cost grows with batch size. */
export const TORCHSERVE_HANDLER = join(SERVERS_DIR, 'torchserve', 'handler.py');

/** A handler whose compute is a sleep of 4 + 1·k ms for a batch of k (sleep_handler.py): for replays. */
export const TORCHSERVE_SLEEP_HANDLER = join(SERVERS_DIR, 'torchserve', 'sleep_handler.py');

/** The archive of the sleep model, for `archives`: `sleep.mar`, model `sleep`, version 1.0. */
export const SLEEP_ARCHIVE: ArchiveSpec = { modelName: 'sleep', version: '1.0', handler: TORCHSERVE_SLEEP_HANDLER };

export interface ArchiveSpec {
  /** Model name in the MANIFEST (default 'matmul'). */
  readonly modelName?: string;
  /** Version in the MANIFEST (default '1.0'); the register API cannot override it. */
  readonly version?: string;
  /** File name in the model store (default `${modelName}.mar`). */
  readonly fileName?: string;
  /** Handler file (default TORCHSERVE_HANDLER). */
  readonly handler?: string;
}

export interface TorchServeOptions {
  /** `enable_model_api` (register/unregister). Default true. Scale works either way. */
  readonly enableModelApi?: boolean;
  /** Token authorization (TorchServe's default: on). Default true: keys are in `keyFile`. */
  readonly tokenAuth?: boolean;
  /** .mar files to build into the model store before start. Default: one, matmul 1.0. */
  readonly archives?: readonly ArchiveSpec[];
  /** `load_models` (e.g. ['matmul.mar']): registered at startup with default_workers_per_model. */
  readonly loadModels?: readonly string[];
  /** `disable_system_metrics=false` (60 s collector; needed for describe's memoryUsage). Default false. */
  readonly systemMetrics?: boolean;
  /** More config.properties lines (key → value), applied last. */
  readonly extraConfig?: Readonly<Record<string, string>>;
  /** More environment for the frontend and its workers. */
  readonly env?: Readonly<Record<string, string>>;
  /** Readiness deadline (default 90 s; JVM start is 2–5 s, more on a loaded machine). */
  readonly startupTimeoutMs?: number;
  /** Keep the temp dir after stop() (for debugging). Default false. */
  readonly keepTempDir?: boolean;
}

export interface TorchServeKeys {
  readonly inference: string;
  readonly management: string;
  /** The never-expiring key for GET /token on the management port. */
  readonly api: string;
}

export interface TorchServeHandle {
  readonly inferenceUrl: string;
  readonly managementUrl: string;
  readonly metricsUrl: string;
  readonly grpcInferencePort: number;
  readonly grpcManagementPort: number;
  /** pid of the `torchserve` launcher; also the process group id of the JVM and its workers. */
  readonly pid: number;
  /** TorchServe writes key_file.json to its working directory: this path. '' with tokenAuth false. */
  readonly keyFile: string;
  readonly workDir: string;
  readonly modelStore: string;
  /** stdout+stderr of the launcher and the JVM (ts_log content, model logs). */
  readonly logFile: string;
  /** LOG_LOCATION: ts_log.log, model_log.log, access_log.log, ... */
  readonly logDir: string;
  readonly configFile: string;
  /** Reads key_file.json now (keys change after GET /token). */
  keys(): TorchServeKeys;
  /** `{Authorization: 'Bearer <key>'}` for that API, or {} when token auth is off. */
  auth(api: 'inference' | 'management' | 'api'): Record<string, string>;
  /** Builds another .mar into the model store (e.g. version 2.0 for blue/green). */
  buildArchive(spec: ArchiveSpec): Promise<string>;
  /** pids of the Python worker processes (model_service_worker.py) now running. */
  workerPids(): number[];
  /** SIGTERM the process group, SIGKILL after 15 s, wait for all to exit, remove the temp dir. */
  stop(): Promise<void>;
}

function torchServeInstall(): { bin: string; archiver: string } {
  const status = serversStatus();
  const why = unavailableReason('torchserve', status);
  if (why !== undefined) throw new Error(`TorchServe unavailable: ${why}`);
  return { bin: status.torchserve.bin, archiver: status.torchserve.archiver };
}

async function buildArchiveInto(archiver: string, store: string, scratch: string, spec: ArchiveSpec): Promise<string> {
  const modelName = spec.modelName ?? 'matmul';
  const version = spec.version ?? '1.0';
  const fileName = spec.fileName ?? `${modelName}.mar`;
  // The archiver names its output <model-name>.mar; build in a scratch dir, then rename.
  const out = mkdtempSync(join(scratch, 'mar-'));
  await execFileP(archiver, [
    '--model-name', modelName, '--version', version,
    '--handler', spec.handler ?? TORCHSERVE_HANDLER,
    '--export-path', out, '--force',
  ], { timeout: 120_000 });
  const dest = join(store, fileName);
  renameSync(join(out, `${modelName}.mar`), dest);
  rmSync(out, { recursive: true, force: true });
  return dest;
}

function readKeys(keyFile: string): TorchServeKeys {
  const k = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, { key?: string }>;
  return { inference: k.inference?.key ?? '', management: k.management?.key ?? '', api: k.API?.key ?? '' };
}

/** Starts a real TorchServe. Rejects (with the log path and its tail) if it is not ready in time. */
export async function startTorchServe(opts: TorchServeOptions = {}): Promise<TorchServeHandle> {
  const { bin, archiver } = torchServeInstall();
  const tokenAuth = opts.tokenAuth ?? true;
  const workDir = mkdtempSync(join(tmpdir(), 'inferline-torchserve-'));
  const modelStore = join(workDir, 'model_store');
  const logDir = join(workDir, 'logs');
  const tmp = join(workDir, 'tmp');
  const cwd = join(workDir, 'cwd');
  for (const d of [modelStore, logDir, tmp, cwd]) mkdirSync(d, { recursive: true });
  const keyFile = tokenAuth ? join(cwd, 'key_file.json') : '';
  const configFile = join(workDir, 'config.properties');
  const logFile = join(workDir, 'torchserve.log');

  try {
    for (const spec of opts.archives ?? [{}]) await buildArchiveInto(archiver, modelStore, tmp, spec);
  } catch (e) {
    rmSync(workDir, { recursive: true, force: true });
    throw new Error(`torch-model-archiver failed: ${(e as Error).message}`, { cause: e });
  }

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const [inf, mgmt, met, grpcI, grpcM] = (await freePorts(5)) as [number, number, number, number, number];
    const config: Record<string, string> = {
      inference_address: `http://127.0.0.1:${inf}`,
      management_address: `http://127.0.0.1:${mgmt}`,
      metrics_address: `http://127.0.0.1:${met}`,
      grpc_inference_address: '127.0.0.1',
      grpc_management_address: '127.0.0.1',
      grpc_inference_port: String(grpcI),
      grpc_management_port: String(grpcM),
      model_store: modelStore,
      enable_model_api: String(opts.enableModelApi ?? true),
      disable_token_authorization: String(!tokenAuth),
      metrics_mode: 'prometheus',
      number_of_gpu: '0',
      default_workers_per_model: '1',
      disable_system_metrics: String(!(opts.systemMetrics ?? false)),
      vmargs: '-Xmx512m -XX:+ExitOnOutOfMemoryError',
      ...(opts.loadModels !== undefined && opts.loadModels.length > 0 ? { load_models: opts.loadModels.join(',') } : {}),
      ...opts.extraConfig,
    };
    writeFileSync(configFile, Object.entries(config).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(VENV_DIR, 'bin')}:${process.env.PATH ?? ''}`,
      TMPDIR: tmp, // pid file and the workers' .ts.sock.900N sockets
      TEMP: tmp, // -Djava.io.tmpdir (extracted .mar files)
      LOG_LOCATION: logDir,
      METRICS_LOCATION: logDir,
      OMP_NUM_THREADS: '1',
      ...opts.env,
    };
    delete env.CUDA_VISIBLE_DEVICES; // set and non-empty, it makes TorchServe count GPUs
    rmSync(keyFile || join(cwd, 'key_file.json'), { force: true });
    writeFileSync(logFile, `== attempt ${attempt}: ${bin} --start --foreground --ncs --ts-config ${configFile}\n`, { flag: 'a' });
    const proc = spawnGroup(bin, ['--start', '--foreground', '--ncs', '--ts-config', configFile], { cwd, env, logFile });
    const inferenceUrl = `http://127.0.0.1:${inf}`;
    const headers = (): Record<string, string> =>
      tokenAuth ? { Authorization: `Bearer ${readKeys(keyFile).inference}` } : {};
    try {
      await waitUntil(
        `TorchServe not ready (log: ${logFile})`,
        async () => {
          if (tokenAuth && !existsSync(keyFile)) return false;
          const r = await httpRequest(`${inferenceUrl}/ping`, { headers: headers(), timeoutMs: 5_000 });
          return r.status === 200;
        },
        {
          timeoutMs: opts.startupTimeoutMs ?? 90_000,
          failed: () => {
            const ex = proc.exited();
            return ex === undefined ? undefined : `torchserve exited (code ${ex.code}, signal ${ex.signal}) (log: ${logFile})`;
          },
        },
      );
    } catch (e) {
      await stopGroup(proc.pid).catch(() => undefined);
      const tail = logTail(logFile, 30);
      lastError = new Error(`${(e as Error).message}\n--- last lines of ${logFile} ---\n${tail}`);
      if (/Address already in use|BindException/.test(tail) && attempt < 3) continue; // port race: retry
      break;
    }

    let stopped = false;
    const handle: TorchServeHandle = {
      inferenceUrl,
      managementUrl: `http://127.0.0.1:${mgmt}`,
      metricsUrl: `http://127.0.0.1:${met}`,
      grpcInferencePort: grpcI,
      grpcManagementPort: grpcM,
      pid: proc.pid,
      keyFile,
      workDir,
      modelStore,
      logFile,
      logDir,
      configFile,
      keys: () => (tokenAuth ? readKeys(keyFile) : { inference: '', management: '', api: '' }),
      auth: (api): Record<string, string> => {
        if (!tokenAuth) return {};
        const k = readKeys(keyFile);
        return { Authorization: `Bearer ${api === 'api' ? k.api : k[api]}` };
      },
      buildArchive: (spec) => buildArchiveInto(archiver, modelStore, tmp, spec),
      workerPids: () => groupMembers(proc.pid)
        .filter((m) => m.argv.some((a) => a.endsWith('model_service_worker.py')))
        .map((m) => m.pid),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopGroup(proc.pid);
        if (!opts.keepTempDir) rmSync(workDir, { recursive: true, force: true });
      },
    };
    return handle;
  }
  // The temp dir stays: the log named in the error is in it. Only the bulky parts go.
  rmSync(modelStore, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
  throw lastError ?? new Error(`TorchServe did not start (log: ${logFile})`);
}
