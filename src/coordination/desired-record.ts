// The stored form of a desired-state record, shared by the etcd and Kubernetes backends:
// JSON `{spec, epoch, writtenBy}`, with the backend's own version as the revision.
import type { DesiredStateRecord, JsonValue } from '../ports/coordinator.js';

export function desiredRecordJson(spec: JsonValue, epoch: number, writtenBy: string): string {
  return JSON.stringify({ spec, epoch, writtenBy });
}

/** The record stored as `text`; undefined when it is not one. */
export function parseDesiredRecord(agentId: string, text: string, revision: string): DesiredStateRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || !('spec' in raw)) return undefined;
  const r = raw as { spec: JsonValue; epoch?: unknown; writtenBy?: unknown };
  if (typeof r.epoch !== 'number' || !Number.isSafeInteger(r.epoch) || typeof r.writtenBy !== 'string') return undefined;
  return { agentId, spec: r.spec, epoch: r.epoch, writtenBy: r.writtenBy, revision };
}
