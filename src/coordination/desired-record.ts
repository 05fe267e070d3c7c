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
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = storedRecord.safeParse(raw);
  // A record without its spec (a key other than a desired state) is not one either.
  if (!r.success || !(typeof raw === 'object' && raw !== null && 'spec' in raw)) return undefined;
  return { agentId, spec: r.data.spec as JsonValue, epoch: r.data.epoch, writtenBy: r.data.writtenBy, revision };
}
