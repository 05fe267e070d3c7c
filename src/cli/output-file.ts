// Files a command writes (--out, --report): checked before the long work starts, so a typo in the
// folder costs a second rather than the whole run, and written with a message that names the flag
// and the fix instead of a raw Node error code.
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './errors.js';

/** Why a path cannot be written, in words; undefined for an error we do not know. */
function reason(err: unknown, file: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return `the folder ${path.dirname(file)} does not exist — create it first, or write somewhere else`;
    case 'ENOTDIR': return `a part of the path is a file, not a folder`;
    case 'EISDIR': return 'is a folder — give a file name';
    case 'EACCES':
    case 'EPERM': return 'permission denied — write somewhere you may';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOSPC': return 'no space left on the device';
    case 'ENAMETOOLONG': return 'the name is too long';
    default: return undefined;
  }
}

function describe(err: unknown, file: string): string {
  return reason(err, file) ?? `cannot be written (${err instanceof Error ? err.message : String(err)})`;
}

/**
 * Checks that `file` (given with `flag`) can be written: its folder exists and may be written
 * to, and the file, when it exists, is a file that may be overwritten.
 * @throws UsageError naming the flag, the path and the fix.
 */
export async function checkOutputPath(flag: string, file: string): Promise<void> {
  const fail = (why: string): never => { throw new UsageError(`${flag} ${file}: ${why}`); };
  if (file.trim() === '') fail('the file name is empty');
  const dir = path.dirname(path.resolve(file));
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) fail(`${path.dirname(file)} is a file, not a folder`);
    await access(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    fail(describe(err, file));
  }
  let existing: Stats;
  try {
    existing = await stat(file);
  } catch {
    return; // absent: the folder check above is what matters
  }
  if (existing.isDirectory()) fail('is a folder — give a file name');
  // A device or a pipe (/dev/stdout, /dev/null) is fine: these files are only written.
  try {
    await access(file, constants.W_OK);
  } catch (err) {
    fail(describe(err, file));
  }
}

/** Thrown when a checked output path still cannot be written (the disk filled up, say): exit 1. */
export class OutputWriteError extends Error {
  override readonly name = 'OutputWriteError';
}

/** Writes `text` to `file`; a failure names the flag and says why, in words. */
export async function writeOutputFile(flag: string, file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (err) {
    throw new OutputWriteError(`${flag} ${file}: ${describe(err, file)}`, { cause: err });
  }
}
