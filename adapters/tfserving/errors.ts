// AdapterErrors for what the TF Serving adapter touches besides HTTP: local files and commands,
// and bodies that break the wire contract.
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { AdapterErrorKind } from '../../src/ports/server-adapter.js';
import type { Fetched } from './client.js';
import type { CommandResult } from './client.js';
import { showCommand } from './options.js';

export function malformed(f: Fetched, err: Error): AdapterError {
  return new AdapterError({ server: 'tfserving', endpoint: f.endpoint, status: f.res.status, kind: 'malformed', message: `malformed body: ${err.message}`, cause: err });
}

export function fileError(path: string, kind: AdapterErrorKind, message: string, cause?: unknown): AdapterError {
  return new AdapterError({ server: 'tfserving', endpoint: `file ${path}`, kind, message, cause });
}

export function unsupported(endpoint: string, message: string): AdapterError {
  return new AdapterError({ server: 'tfserving', endpoint, kind: 'unsupported', message });
}

function tail(text: string, chars = 500): string {
  const t = text.trim();
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

/**
 * A command that did not succeed. The exit code is the status (kind 'http', the port's kind for
 * "an unexpected status"); a timeout is kind 'timeout'.
 */
export function commandError(argv: readonly string[], r: CommandResult, timeoutMs: number, note?: string): AdapterError {
  const endpoint = `command ${showCommand(argv)}`;
  const stderr = tail(r.stderrTail);
  const stdout = tail(r.stdoutTail);
  const output = stderr !== '' ? `; stderr: ${stderr}` : stdout !== '' ? `; stdout: ${stdout}` : '';
  const said = output + (note ? `; ${note}` : '');
  if (r.timedOut) return new AdapterError({ server: 'tfserving', endpoint, kind: 'timeout', message: `did not finish within ${timeoutMs} ms and was stopped${said}` });
  const how = r.exitCode !== null ? `exited with code ${r.exitCode}` : `ended by ${r.signal ?? 'a signal'}`;
  return new AdapterError({ server: 'tfserving', endpoint, kind: 'http', ...(r.exitCode !== null ? { status: r.exitCode } : {}), message: `${how}${said}` });
}
