// The agent's side of the fence: each desired-state record read from the coordinator replaces the
// enforced one only when the fence lets it (core/reconcile/fence.ts): never below the newest leader
// epoch this agent has read, nor below the record it enforces. An ignored record is kept beside
// the enforced one, for the status, and judged again when the leader changes; the enforced one
// stays enforced meanwhile. Records are judged one at a time, in order.
import { judgeDesired } from '../../core/reconcile/index.js';
import type { DesiredState } from '../../core/reconcile/index.js';
import type { DesiredStateRecord, LeaderSnapshot } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import { parseDesiredSpec } from './desired-spec.js';
import type { AgentDesiredSpec } from './desired-spec.js';

/** What the judge needs of the agent. */
export interface DesiredJudgePort {
  readonly agentId: string;
  readonly log: Logger;
  /** The newest leader epoch this agent has read. */
  leaderEpoch(): number;
  /** Reads the leader now (the coordinator's view), undefined when it cannot. */
  readLeader(): Promise<LeaderSnapshot | undefined>;
  /** A leader newer than the watch had shown. */
  sawLeader(l: LeaderSnapshot): void;
  /** Enforce this desired state, now. */
  enforce(desired: DesiredState): void;
}

export interface IgnoredRecord {
  readonly epoch: number;
  readonly revision: string;
  readonly writtenBy: string;
  readonly models: AgentDesiredSpec['models'] | undefined;
  readonly reason: string;
}

export class DesiredJudge {
  private readonly port: DesiredJudgePort;
  private enforced: { record: DesiredStateRecord; spec: AgentDesiredSpec } | undefined;
  private problemLine: string | undefined;
  /** The last record read from the coordinator, and the one ignored (stale, unreadable, unconfirmed) if it is not enforced. */
  private latestRecord: DesiredStateRecord | undefined;
  private ignoredRecord: IgnoredRecord | undefined;
  private judging: Promise<void> = Promise.resolve();

  constructor(port: DesiredJudgePort) {
    this.port = port;
  }

  /** The enforced desired state and the record it came from. */
  get desired(): { readonly record: DesiredStateRecord; readonly spec: AgentDesiredSpec } | undefined {
    return this.enforced;
  }

  get ignored(): IgnoredRecord | undefined {
    return this.ignoredRecord;
  }

  get problem(): string | undefined {
    return this.problemLine;
  }

  /** A record read from the coordinator: judged after those before it. */
  onRecord(record: DesiredStateRecord | undefined): void {
    this.latestRecord = record;
    this.judging = this.judging.then(() => this.judge()).catch((err: unknown) => {
      this.port.log.error(`desired state not judged: ${err instanceof Error ? err.message : String(err)}`, { agent: this.port.agentId });
    });
  }

  /** The leader changed: a record ignored so far is judged again. */
  onLeaderChange(): void {
    if (this.ignoredRecord !== undefined && this.latestRecord !== undefined) this.onRecord(this.latestRecord);
  }

  private async judge(): Promise<void> {
    const record = this.latestRecord;
    if (record === undefined || record.revision === this.enforced?.record.revision) return;
    const { spec, problem } = parseDesiredSpec(record.spec);
    if (problem !== undefined || spec === undefined) {
      // Never act on a record we cannot read; keep the last good one.
      this.ignore(record, undefined, `unreadable: ${problem ?? 'not a desired state'}`);
      return;
    }
    let verdict = judgeDesired({ recordEpoch: record.epoch, leaderEpoch: this.port.leaderEpoch(), enforcedEpoch: this.enforced?.record.epoch ?? 0 });
    if (verdict.kind === 'confirm' || verdict.kind === 'wait') {
      // Read the leader now rather than trust a record ahead of the watch (a new leader's first write).
      const now = await this.port.readLeader();
      if (now !== undefined && now.epoch > this.port.leaderEpoch()) this.port.sawLeader(now);
      if (this.latestRecord !== record) return; // a newer record came meanwhile: it is judged next
      verdict = judgeDesired({ recordEpoch: record.epoch, leaderEpoch: this.port.leaderEpoch(), enforcedEpoch: this.enforced?.record.epoch ?? 0 });
    }
    if (verdict.kind !== 'apply') {
      this.ignore(record, spec, verdict.reason);
      return;
    }
    this.problemLine = undefined;
    this.ignoredRecord = undefined;
    this.enforced = { record, spec };
    this.port.enforce({ epoch: record.epoch, models: spec.models });
  }

  private ignore(record: DesiredStateRecord, spec: AgentDesiredSpec | undefined, reason: string): void {
    const first = this.ignoredRecord?.revision !== record.revision || this.ignoredRecord.reason !== reason;
    this.ignoredRecord = { epoch: record.epoch, revision: record.revision, writtenBy: record.writtenBy, models: spec?.models, reason };
    const { desired } = this;
    this.problemLine = `desired state revision ${record.revision} (epoch ${record.epoch}) ignored: ${reason}${desired ? `; enforcing revision ${desired.record.revision} (epoch ${desired.record.epoch})` : ''}`;
    if (first) this.port.log.warn(this.problemLine, { agent: this.port.agentId, epoch: record.epoch, writtenBy: record.writtenBy });
  }
}
