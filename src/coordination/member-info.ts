// Member info as every backend stores it: checked on the way in, parsed back from JSON on the way
// out (a record another process wrote is input like any other).
import { z } from 'zod';
import { firstIssue } from '../core/model/schema-issue.js';
import { SERVER_KINDS, type ServerKind } from '../ports/server-adapter.js';
import { CoordinatorError, type CoordinationBackend, type MemberInfo } from '../ports/coordinator.js';

export const DEFAULT_MEMBER_TTL_MS = 10_000;

/** Member info as it is checked on the way in and read back: one schema, one message per field. */
export const memberInfoSchema = z.object({
  agentId: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
  serverKind: z.enum(SERVER_KINDS as [ServerKind, ...ServerKind[]], { error: `must be one of ${SERVER_KINDS.join(', ')}` }),
  hardware: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
  models: z.array(z.string(), { error: 'must be a list of strings' }),
  capacity: z.number({ error: 'must be an integer ≥ 0' }).int({ error: 'must be an integer ≥ 0' }).min(0, { error: 'must be an integer ≥ 0' }),
  endpoint: z.string({ error: 'must be a string' }).optional(),
}, { error: 'must be an object' });

/** @throws CoordinatorError naming what is wrong with `info`. */
export function checkMemberInfo(backend: CoordinationBackend, info: MemberInfo): void {
  const parsed = memberInfoSchema.safeParse(info);
  if (!parsed.success) throw new CoordinatorError(backend, `bad member info for "${String(info.agentId)}": ${firstIssue(parsed.error)}`);
}

/** Member info from stored JSON text; undefined when it is not valid member info. */
export function parseMemberInfo(text: string): MemberInfo | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = memberInfoSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { endpoint, ...rest } = parsed.data;
  return { ...rest, ...(endpoint === undefined ? {} : { endpoint }) };
}

/** The stored form: fixed key order, so equal infos are equal text. */
export function memberInfoJson(info: MemberInfo): string {
  const { agentId, serverKind, hardware, models, capacity, endpoint } = info;
  return JSON.stringify({ agentId, serverKind, hardware, models: [...models], capacity, ...(endpoint === undefined ? {} : { endpoint }) });
}

export function byAgentId(a: MemberInfo, b: MemberInfo): number {
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}
