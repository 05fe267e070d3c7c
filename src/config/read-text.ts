// Reading a config, profile or plan file: only regular files of a sane size. A device (/dev/zero)
// or a file of gigabytes would otherwise be read until memory runs out, and fail with a message
// about string lengths. Failures carry a `code`, like Node's, for describeReadError to put in words.
import { readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { MAX_DOCUMENT_CHARS } from '../core/model/limits.js';

/** The codes of the two refusals, beside Node's own (ENOENT, EISDIR, …). */
export const NOT_A_FILE = 'INFERLINE_NOT_A_FILE';
export const TOO_LARGE = 'INFERLINE_TOO_LARGE';

function check(st: Stats): void {
  // A pipe (a shell's <(…)) is allowed: it ends. A device such as /dev/zero never does.
  if (st.isCharacterDevice() || st.isBlockDevice() || st.isSocket()) {
    throw Object.assign(new Error('not a regular file'), { code: NOT_A_FILE });
  }
  // Bytes, not characters: a UTF-8 file has at least as many bytes as characters.
  if (st.size > 4 * MAX_DOCUMENT_CHARS) throw Object.assign(new Error('too large'), { code: TOO_LARGE, size: st.size });
}

export async function readTextFile(file: string): Promise<string> {
  check(await stat(file));
  return readFile(file, 'utf8');
}

export function readTextFileSync(file: string): string {
  check(statSync(file));
  return readFileSync(file, 'utf8');
}
