// Member info as every backend stores it: checked on the way in, parsed back from JSON on the way
// out (a record another process wrote is input like any other).
import { SERVER_KINDS, type ServerKind } from '../ports/server-adapter.js';
import { CoordinatorError, type CoordinationBackend, type MemberInfo } from '../ports/coordinator.js';

export const DEFAULT_MEMBER_TTL_MS = 10_000;

/** @throws CoordinatorError naming what is wrong with `info`. */
export function checkMemberInfo(backend: CoordinationBackend, info: MemberInfo): void {
  const why = memberInfoProblem(info);
  if (why !== undefined) throw new CoordinatorError(backend, `bad member info for "${String(info.agentId)}": ${why}`);
}

function memberInfoProblem(info: MemberInfo): string | undefined {
  if (typeof info.agentId !== 'string' || info.agentId === '') return 'agentId must be a non-empty string';
  if (!SERVER_KINDS.includes(info.serverKind)) return `serverKind must be one of ${SERVER_KINDS.join(', ')}`;
  if (typeof info.hardware !== 'string' || info.hardware === '') return 'hardware must be a non-empty string';
  if (!Array.isArray(info.models) || !info.models.every((m) => typeof m === 'string')) return 'models must be a list of strings';
  if (!Number.isInteger(info.capacity) || info.capacity < 0) return 'capacity must be an integer ≥ 0';
  if (info.endpoint !== undefined && typeof info.endpoint !== 'string') return 'endpoint must be a string';
  return undefined;
}

/** Member info from stored JSON text; undefined when it is not valid member info. */
export function parseMemberInfo(text: string): MemberInfo | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const info: MemberInfo = {
    agentId: r.agentId as string,
    serverKind: r.serverKind as ServerKind,
    hardware: r.hardware as string,
    models: r.models as string[],
    capacity: r.capacity as number,
    ...(r.endpoint === undefined ? {} : { endpoint: r.endpoint as string }),
  };
  return memberInfoProblem(info) === undefined ? info : undefined;
}

/** The stored form: fixed key order, so equal infos are equal text. */
export function memberInfoJson(info: MemberInfo): string {
  const { agentId, serverKind, hardware, models, capacity, endpoint } = info;
  return JSON.stringify({ agentId, serverKind, hardware, models: [...models], capacity, ...(endpoint === undefined ? {} : { endpoint }) });
}

export function byAgentId(a: MemberInfo, b: MemberInfo): number {
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}
