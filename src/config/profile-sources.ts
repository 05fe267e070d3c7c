// Gathers the profiles a config names: inline ones, and those of profile files (paths relative to
// the config file). Each profile keeps a label saying where it came from, so a later problem in it
// reads `profiles[2].points[0]` or `./profiles.yaml: profiles[2].points[0]`.
import path from 'node:path';
import type { Problem } from '../core/model/errors.js';
import type { ProfileOptions } from '../core/model/profiles.js';
import { problemsFromIssues, renderValue } from './issues.js';
import { parseText } from './parse-text.js';
import { NOT_A_FILE, TOO_LARGE } from './read-text.js';
import { profileFileSchema, type ParsedConfigFile } from './schema.js';

/** Reads a file's text (synchronously, so that the loader's core stays a plain function). */
export type ReadFile = (file: string) => string;

export interface GatheredProfiles {
  readonly profiles: readonly ProfileOptions[];
  /** labels[i] names where profiles[i] came from. */
  readonly labels: readonly string[];
  readonly problems: readonly Problem[];
}

/** Inline profiles and the contents of every named profile file, in the order written. */
export function gatherProfiles(
  sources: ParsedConfigFile['profiles'],
  configFile: string,
  readFile: ReadFile,
): GatheredProfiles {
  const profiles: ProfileOptions[] = [];
  const labels: string[] = [];
  const problems: Problem[] = [];
  const list = typeof sources === 'string' ? [{ source: sources, at: 'profiles' }]
    : sources.map((source, i) => ({ source, at: `profiles[${i}]` }));
  for (const { source, at } of list) {
    if (typeof source !== 'string') {
      profiles.push(source);
      labels.push(at);
      continue;
    }
    const loaded = readProfileFile(source, path.resolve(path.dirname(configFile), source), readFile);
    if ('problem' in loaded) {
      problems.push({ path: at, message: loaded.problem });
      continue;
    }
    problems.push(...loaded.problems);
    loaded.profiles.forEach((p, j) => {
      profiles.push(p);
      labels.push(`${source}: profiles[${j}]`);
    });
  }
  return { profiles, labels, problems };
}

type LoadedFile = { problem: string } | { profiles: readonly ProfileOptions[]; problems: readonly Problem[] };

function readProfileFile(written: string, resolved: string, readFile: ReadFile): LoadedFile {
  let text: string;
  try {
    text = readFile(resolved);
  } catch (err) {
    return { problem: `${renderValue(written)} — must be a readable profile file (${describeReadError(err)}: ${resolved})` };
  }
  const parsed = parseText(text, written);
  if (!parsed.ok) return { problem: `${renderValue(written)}: ${parsed.message}` };
  const result = profileFileSchema.safeParse(parsed.value, { reportInput: true });
  if (!result.success) return { profiles: [], problems: problemsFromIssues(result.error.issues, written) };
  return { profiles: result.data.profiles, problems: [] };
}

/** A short reason for a failed read: `not found` rather than a full ENOENT message. */
export function describeReadError(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  switch (code) {
    case 'ENOENT': return 'not found';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'ERR_FS_FILE_TOO_LARGE': case 'ERR_STRING_TOO_LONG': case TOO_LARGE: return 'far too large for a config, profile or plan file (at most 16 MiB)';
    case NOT_A_FILE: return 'a device or a socket, not a file';
    default: return err instanceof Error ? err.message : String(err);
  }
}
