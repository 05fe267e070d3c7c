// The local files the adapter reads and rewrites (the batching parameters file, the model config
// file), with failures as AdapterErrors naming the file. Rewrites are atomic: a temp file in the
// same directory, flushed, then renamed over the target, so a server starting up reads the old
// content or the new, never half of either.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileError } from './errors.js';
import { TextProtoError } from './text-proto.js';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  // Keep the target's permissions: the server's user must still be able to read it.
  const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o644);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined); // leave no temp files behind a failed write
    throw err;
  }
}

/** Where the previous content of a rewritten file is kept. */
export function backupPathOf(path: string): string {
  return `${path}.bak`;
}

export async function readLocal(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw fileError(path, 'unsupported', `cannot read: ${(err as Error).message}`, err);
  }
}

export async function writeLocal(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    throw fileError(path, 'unsupported', `cannot write: ${(err as Error).message}`, err);
  }
}

/** Runs a text-proto reader; a syntax problem becomes a 'malformed' AdapterError naming the file. */
export function parseLocal<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof TextProtoError) throw fileError(path, 'malformed', err.message, err);
    throw err;
  }
}
