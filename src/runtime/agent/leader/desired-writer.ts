// The leader's desired-state writer: places every pipeline's wanted replicas onto agents of the
// right hardware within their capacity, and writes each agent's desired state fenced by the epoch,
// only when it changed, one write pass at a time. A shortfall is a metric, a log line, and
// optionally an orchestrator command. A StaleEpochError means this leader no longer leads: it
// steps down at once.
import type { InferlineConfig } from '../../../config/index.js';
import { placeReplicas } from '../../../core/fleet/index.js';
import type { Placement, PlacementMember, Shortfall, StageDemand } from '../../../core/fleet/index.js';
import type { Coordinator, MemberInfo, StaleEpochError } from '../../../ports/coordinator.js';
import type { Logger } from '../../../ports/logger.js';
import type { Telemetry } from '../../../ports/telemetry.js';
import { desiredSpecOf } from '../desired-spec.js';
import type { PlanSummary, StageRef } from '../desired-spec.js';
import type { PipelineRun } from './pipeline-run.js';

/** What is placed and written: taken when a write pass starts, not when it is asked for. */
export interface WriteSnapshot {
  readonly config: InferlineConfig;
  readonly members: readonly MemberInfo[];
  readonly runs: readonly PipelineRun[];
}

/** What the writer needs of the leader. */
export interface WriterPort {
  readonly coordinator: Coordinator;
  readonly log: Logger;
  readonly telemetry: Telemetry;
  readonly epoch: number;
  readonly runCommand?: (argv: readonly string[], timeoutMs: number) => Promise<void>;
  /** The leader acts: not stopped and still leading. */
  active(): boolean;
  /** A write was refused: this epoch is stale. */
  stepDown(): Promise<void>;
  snapshot(): WriteSnapshot;
}

export class DesiredWriter {
  private readonly port: WriterPort;
  private readonly lastWritten = new Map<string, string>();
  private placed: Placement = { perAgent: {}, assignments: [], shortfalls: [] };
  private shortfallKey = '';
  private readonly errors: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** Stored records rewritten because they differed from what this leader decided. */
  private repaired = 0;

  constructor(port: WriterPort) {
    this.port = port;
  }

  get placement(): Placement {
    return this.placed;
  }

  get writeErrors(): readonly string[] {
    return this.errors;
  }

  get repairs(): number {
    return this.repaired;
  }

  /**
   * Places every pipeline's wanted replicas and writes what changed, one write pass at a time. With
   * `verify`, what is stored is read back first and every record that differs from what this leader
   * decided, or carries another epoch, is rewritten: a record changed behind its back (a zombie's
   * replayed write, a restored backup, a hand edit) does not outlive the next verification.
   */
  write(verify = false): Promise<void> {
    this.writing = this.writing.then(() => this.writeOnce(verify)).catch((err: unknown) => {
      this.port.log.error('writing desired state failed', { error: String(err) });
    });
    return this.writing;
  }

  private async writeOnce(verify: boolean): Promise<void> {
    if (!this.port.active()) return;
    const { config, members, runs } = this.port.snapshot();
    const { demands, refs } = demandsOf(runs);
    const placement = placeReplicas(demands, members.map((m): PlacementMember => ({ agentId: m.agentId, hardware: m.hardware, models: m.models, capacity: m.capacity })));
    this.placed = placement;
    this.reportShortfalls(placement.shortfalls, runs, config);
    const summaries = runs.map((r) => r.summary(this.port.epoch)).filter((s): s is PlanSummary => s !== undefined);
    this.errors.length = 0;
    for (const m of members) {
      const spec = desiredSpecOf(placement.perAgent[m.agentId] ?? [], refs, summaries);
      const text = JSON.stringify(spec);
      if (verify && await this.storedAsDecided(m.agentId, text)) continue;
      if (this.lastWritten.get(m.agentId) === text) continue;
      try {
        await this.port.coordinator.writeDesired(m.agentId, spec, this.port.epoch);
        this.lastWritten.set(m.agentId, text);
      } catch (err) {
        // By name: a backend loaded on demand may carry its own copy of the error classes.
        if (err instanceof Error && err.name === 'StaleEpochError') {
          this.port.log.warn(`desired state of ${m.agentId} refused: epoch ${this.port.epoch} is stale; stepping down`, { currentEpoch: (err as StaleEpochError).currentEpoch });
          await this.port.stepDown();
          return;
        }
        this.errors.push(`${m.agentId}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!this.port.active()) return;
    }
  }

  /** Reads an agent's stored record back: true when it is what this epoch decided; else it is to be rewritten. */
  private async storedAsDecided(agentId: string, text: string): Promise<boolean> {
    const { epoch } = this.port;
    const stored = await this.port.coordinator.readDesired(agentId).catch(() => undefined);
    const same = stored !== undefined && stored.epoch === epoch && JSON.stringify(stored.spec) === text;
    if (same) {
      this.lastWritten.set(agentId, text);
      return true;
    }
    if (stored !== undefined && this.lastWritten.get(agentId) === text) {
      this.repaired++;
      this.port.log.warn(`desired state of ${agentId} differs from what epoch ${epoch} wrote (stored: epoch ${stored.epoch}, by ${stored.writtenBy}, revision ${stored.revision}): rewriting it`, {
        agent: agentId, storedEpoch: stored.epoch, writtenBy: stored.writtenBy,
      });
    }
    this.lastWritten.delete(agentId);
    return false;
  }

  private reportShortfalls(shortfalls: readonly Shortfall[], runs: readonly PipelineRun[], config: InferlineConfig): void {
    for (const run of runs) {
      if (!run.plan) continue;
      for (const [stage, c] of Object.entries(run.plan.stages)) {
        const s = shortfalls.find((x) => x.pipeline === run.spec.name && x.stage === stage);
        this.port.telemetry.recordShortfall({ pipeline: run.spec.name, stage, hardware: c.hardware, missing: s ? s.wanted - s.placed : 0 });
      }
    }
    const key = JSON.stringify(shortfalls);
    if (key === this.shortfallKey) return;
    this.shortfallKey = key;
    for (const s of shortfalls) {
      this.port.log.warn(shortfallLine(s), { pipeline: s.pipeline, stage: s.stage, hardware: s.hardware, missing: s.wanted - s.placed });
      const command = config.placement.orchestratorCommand;
      const run = this.port.runCommand;
      // The kubernetes-scale backend gets the figures through desiredReplicas instead.
      if (command && run && config.placement.backend === 'command') {
        const argv = command.map((a) => a.replaceAll('{pipeline}', s.pipeline).replaceAll('{stage}', s.stage).replaceAll('{hardware}', s.hardware)
          .replaceAll('{model}', s.model).replaceAll('{missing}', String(s.wanted - s.placed)));
        run(argv, config.placement.commandTimeoutMs).catch((err: unknown) => {
          this.port.log.error(`orchestrator command failed: ${argv.join(' ')}`, { error: err instanceof Error ? err.message : String(err) });
        });
      }
    }
  }
}

/** Every planned stage's wanted replicas, and per model the stages it stands for. */
function demandsOf(runs: readonly PipelineRun[]): { demands: StageDemand[]; refs: Record<string, StageRef[]> } {
  const demands: StageDemand[] = [];
  const refs: Record<string, StageRef[]> = {};
  for (const run of runs) {
    if (!run.plan) continue;
    for (const s of run.spec.stages) {
      const c = run.plan.stages[s.name];
      if (!c) continue;
      demands.push({
        pipeline: run.spec.name, stage: s.name, model: s.model, hardware: c.hardware, replicas: run.replicasOf(s.name, c.replicas), batchSize: c.batchSize,
        ...(c.batchDelayMs !== undefined ? { batchDelayMs: c.batchDelayMs } : {}),
      });
      (refs[s.model] ??= []).push({ pipeline: run.spec.name, stage: s.name, hardware: c.hardware });
    }
  }
  return { demands, refs };
}

export function shortfallLine(s: Shortfall): string {
  return `shortfall: ${s.pipeline}/${s.stage} wants ${s.wanted} replicas of ${s.model} on ${s.hardware}, ${s.placed} placed (${s.reason})`;
}
