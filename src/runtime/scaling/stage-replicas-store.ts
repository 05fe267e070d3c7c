// Keeps the leader's replicas per stage in the coordinator, so that every agent can answer KEDA
// and export the workload gauge, not only the leader: the leader's figures (feed source `leader`)
// are written under STAGE_REPLICAS_KEY fenced by its epoch, like every desired-state write; every
// agent watches that record and hands it to the feed as the `stored` figures. Writes are
// serialised and coalesced: only the latest figures are written. A StaleEpochError means this
// process no longer leads: the write is dropped (the Leader steps down through its own writes).
import type { Coordinator, DesiredStateRecord, JsonValue, Subscription } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { DesiredReplicasFeed, DesiredReplicasSnapshot, StageReplicas } from './desired-replicas-feed.js';

/** The desired-state key of the stage figures; agent ids cannot start with "_". */
export const STAGE_REPLICAS_KEY = '_stage-replicas';

export interface StageReplicasStoreOptions {
  readonly coordinator: Coordinator;
  readonly feed: DesiredReplicasFeed;
  readonly log: Logger;
}

export class StageReplicasStore {
  private readonly o: StageReplicasStoreOptions;
  private watch: Subscription | undefined;
  private feedSub: { close(): void } | undefined;
  private pending: DesiredReplicasSnapshot | undefined;
  private writing: Promise<void> | undefined;
  private lastWritten = '';
  private started = false;

  constructor(options: StageReplicasStoreOptions) {
    this.o = options;
  }

  /** Needs a started coordinator. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.watch = await this.o.coordinator.watchDesired(STAGE_REPLICAS_KEY, (r) => this.onRecord(r));
    this.feedSub = this.o.feed.subscribe((s) => {
      if (s?.source !== 'leader') return;
      this.pending = s;
      this.writing ??= this.drain().finally(() => { this.writing = undefined; });
    });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.feedSub?.close();
    await this.watch?.close().catch(() => undefined);
    await this.writing;
  }

  private onRecord(record: DesiredStateRecord | undefined): void {
    if (record === undefined) return;
    const stages = parseStageReplicas(record.spec);
    if (stages === undefined) {
      this.o.log.error(`${STAGE_REPLICAS_KEY} revision ${record.revision} ignored: not a list of stage figures`);
      return;
    }
    this.o.feed.publishStored(record.epoch, stages);
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined && this.started) {
      const s = this.pending;
      this.pending = undefined;
      const spec = { stages: s.stages.map((x) => ({ ...x })) } as unknown as JsonValue;
      const text = JSON.stringify([s.epoch, spec]);
      if (text === this.lastWritten) continue;
      try {
        await this.o.coordinator.writeDesired(STAGE_REPLICAS_KEY, spec, s.epoch);
        this.lastWritten = text;
      } catch (err) {
        // By name: a backend loaded on demand may carry its own copy of the error classes.
        const stale = err instanceof Error && err.name === 'StaleEpochError';
        this.o.log[stale ? 'warn' : 'error'](`stage replicas not stored: ${err instanceof Error ? err.message : String(err)}`, { epoch: s.epoch });
      }
    }
  }
}

/** The stage figures of a stored record, or undefined when it is not one. */
export function parseStageReplicas(spec: unknown): StageReplicas[] | undefined {
  const list = (spec as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(list)) return undefined;
  const out: StageReplicas[] = [];
  for (const item of list) {
    const r = item as Record<string, unknown> | null;
    if (typeof r?.['pipeline'] !== 'string' || typeof r['stage'] !== 'string' || typeof r['model'] !== 'string' || typeof r['hardware'] !== 'string') return undefined;
    const desired = r['desired'];
    if (typeof desired !== 'number' || !Number.isInteger(desired) || desired < 0) return undefined;
    out.push({ pipeline: r['pipeline'], stage: r['stage'], model: r['model'], hardware: r['hardware'], desired });
  }
  return out;
}
