// The stored form of a desired-state record, shared by the etcd and Kubernetes backends:
// JSON `{spec, epoch, writtenBy}`, with the backend's own version as the revision.
import { z } from 'zod';
import type { DesiredStateRecord, JsonValue } from '../ports/coordinator.js';

const storedRecord = z.object({
  spec: z.json(),
  epoch: z.number().int().refine(Number.isSafeInteger),
  writtenBy: z.string(),
});

export function desiredRecordJson(spec: JsonValue, epoch: number, writtenBy: string): string {
  return JSON.stringify({ spec, epoch, writtenBy });
}

/** The record stored as `text`; undefined when it is not one. */
export function parseDesiredRecord(agentId: string, text: string, revision: string): DesiredStateRecord | undefined {
  const raw = jsonOrUndefined(text);
  const r = storedRecord.safeParse(raw);
  // A record without its spec (a key other than a desired state) is not one either.
  if (!r.success || !(typeof raw === 'object' && raw !== null && 'spec' in raw)) return undefined;
  return { agentId, spec: r.data.spec as JsonValue, epoch: r.data.epoch, writtenBy: r.data.writtenBy, revision };
}

/** The Kubernetes backend's form: one ConfigMap key per agent, the record naming its agent and carrying its own revision counter. */
const configMapRecord = storedRecord.extend({ agentId: z.string(), revision: z.number().int().refine(Number.isSafeInteger) });

/** The ConfigMap entry `text` as `agentId`'s record; undefined when it is not one (or names another agent). */
export function parseConfigMapRecord(agentId: string, text: string): DesiredStateRecord | undefined {
  const raw = jsonOrUndefined(text);
  const r = configMapRecord.safeParse(raw);
  if (!r.success || r.data.agentId !== agentId || !(typeof raw === 'object' && raw !== null && 'spec' in raw)) return undefined;
  return { agentId, spec: r.data.spec as JsonValue, epoch: r.data.epoch, writtenBy: r.data.writtenBy, revision: String(r.data.revision) };
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
