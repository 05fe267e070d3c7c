// What .ci/install-servers.sh installed, read from .ci/venv/servers.json, and why a real server
// is unavailable when it is.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const VENV_DIR = join(REPO_ROOT, '.ci', 'venv');
/** Written by .ci/install-servers.sh; INFERLINE_SERVERS_STATUS points elsewhere (to test the skip path). */
export const STATUS_FILE = process.env.INFERLINE_SERVERS_STATUS ?? join(VENV_DIR, 'servers.json');
/** Model sources (handler.py, the Triton model repository) kept in git next to these helpers. */
export const SERVERS_DIR = join(REPO_ROOT, 'test', 'integration', 'servers');

export type ServerName = 'torchserve' | 'triton';

export interface TorchServeInstall {
  readonly ok: boolean;
  /** Why it is unavailable ('' when ok). */
  readonly reason: string;
  readonly version: string;
  readonly bin: string;
  readonly archiver: string;
  readonly java: string;
}

export interface TritonInstall {
  readonly ok: boolean;
  readonly reason: string;
  readonly version: string;
  readonly bin: string;
  readonly backendDir: string;
  /** LD_LIBRARY_PATH the binary and the python-backend stub need. */
  readonly ldLibraryPath: string;
  /** Put first on PATH so that the stub's embedded Python finds the venv (and its numpy). */
  readonly pathPrepend: string;
}

export interface ServersStatus {
  readonly file: string;
  /** False when the status file is missing or unreadable: install-servers.sh has not run. */
  readonly present: boolean;
  readonly torchserve: TorchServeInstall;
  readonly triton: TritonInstall;
}

const HOW = 'run `bash .ci/install-servers.sh` (installs TorchServe and Triton into .ci/venv)';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Reads the status file written by .ci/install-servers.sh. Never throws. */
export function serversStatus(file = STATUS_FILE): ServersStatus {
  let raw: Record<string, unknown> | undefined;
  let why = `${file} not found: ${HOW}`;
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      why = `${file} is not valid JSON (${(e as Error).message}): ${HOW}`;
    }
  }
  const ts = (raw?.torchserve ?? {}) as Record<string, unknown>;
  const tr = (raw?.triton ?? {}) as Record<string, unknown>;
  const present = raw !== undefined;
  const torchserve: TorchServeInstall = {
    ok: present && ts.ok === true,
    reason: present ? (ts.ok === true ? '' : str(ts.reason) || 'not installed') : why,
    version: str(ts.version),
    bin: str(ts.bin),
    archiver: str(ts.archiver),
    java: str(ts.java),
  };
  const triton: TritonInstall = {
    ok: present && tr.ok === true,
    reason: present ? (tr.ok === true ? '' : str(tr.reason) || 'not installed') : why,
    version: str(tr.version),
    bin: str(tr.bin),
    backendDir: str(tr.backendDir),
    ldLibraryPath: str(tr.ldLibraryPath),
    pathPrepend: str(tr.pathPrepend),
  };
  return { file, present, torchserve, triton };
}

/**
 * Why `server` cannot be started here, or undefined when it can. Also catches a status file that
 * says ok while the binaries it names have gone (a venv removed by hand).
 */
export function unavailableReason(server: ServerName, status = serversStatus()): string | undefined {
  if (server === 'torchserve') {
    const s = status.torchserve;
    if (!s.ok) return s.reason;
    for (const f of [s.bin, s.archiver]) if (!existsSync(f)) return `${f} is missing: ${HOW}`;
    return undefined;
  }
  const s = status.triton;
  if (!s.ok) return s.reason;
  for (const f of [s.bin, join(s.backendDir, 'python', 'triton_python_backend_stub')]) {
    if (!existsSync(f)) return `${f} is missing: ${HOW}`;
  }
  return undefined;
}
