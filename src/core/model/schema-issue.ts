// A zod issue as one line in the house style: the path as code writes it (`samples[0].model`),
// then what the value must be (`must be a model name`), or, for a check across fields, the
// path and a clause (`samples[0]: toMs must be after fromMs`, the message starting with ':').
// For stored and pushed JSON (samples, desired records, member info, fleet policy, traffic),
// whose schemas word their own messages; the config file has its own fuller rendering
// (config/issues.ts).
import type { z } from 'zod';

export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out;
}

export function issueText(issue: { readonly path: readonly PropertyKey[]; readonly message: string }): string {
  const path = issuePath(issue.path);
  if (path === '') return issue.message.replace(/^:\s*/, '');
  return issue.message.startsWith(':') ? `${path}${issue.message}` : `${path} ${issue.message}`;
}

/** The first problem a failed parse found. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? 'invalid' : issueText(issue);
}
