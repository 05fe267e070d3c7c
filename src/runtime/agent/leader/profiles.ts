// The profiles the leader plans with: the config's, then for (model, hardware) pairs the config has
// none for, active ones agents measured at the leader's request, else passive ones from Triton's
// per-batch-size statistics in the samples. It asks each agent at most once per model.
import type { InferlineConfig } from '../../../config/index.js';
import { normaliseProfiles } from '../../../core/model/profiles.js';
import type { ProfileOptions } from '../../../core/model/profiles.js';
import type { ModelProfile } from '../../../core/model/types.js';
import { passivePoints, tallyBatchSizes } from '../../../core/profiler/passive.js';
import type { BatchSizeTally } from '../../../core/profiler/passive.js';
import { passiveProfile } from '../../../core/profiler/table.js';
import type { MemberInfo } from '../../../ports/coordinator.js';
import type { Logger } from '../../../ports/logger.js';
import type { ModelSample } from '../../../core/observe/sample.js';
import { pairKey } from './pipeline-run.js';

/** Passive points need this many executions of a size before the leader plans with them. */
const PASSIVE_MIN_SAMPLES = 20;

export interface ProfileRequest {
  readonly agentId: string;
  readonly model: string;
  readonly hardware: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly detail?: string;
}

/** What the profiles need of the leader. */
export interface ProfilesPort {
  readonly log: Logger;
  /** Wall-clock ms since the epoch, for the measuredAt of passive profiles. */
  wallClockMs(): number;
  /** The leader acts: not stopped and still leading. */
  active(): boolean;
  /** An agent measured a profile the leader lacked: re-plan the pipelines that use the model. */
  measured(model: string, hardware: string): void;
}

export class FleetProfiles {
  private readonly port: ProfilesPort;
  private readonly passive = new Map<string, BatchSizeTally[]>();
  /** Active profiles agents measured at the leader's request, by model and hardware. */
  private readonly active = new Map<string, ProfileOptions>();
  private readonly requests = new Map<string, ProfileRequest>();

  constructor(port: ProfilesPort) {
    this.port = port;
  }

  /** A sample's per-batch-size statistics, from a server of `hardware`. */
  tally(s: ModelSample, hardware: string): void {
    if (!s.batchSizes || s.batchSizes.length === 0) return;
    const key = pairKey(s.model, hardware);
    this.passive.set(key, tallyBatchSizes(this.passive.get(key) ?? [], s.batchSizes));
  }

  /** Config profiles, then the measured ones for pairs the config has none for. */
  all(config: InferlineConfig): ModelProfile[] {
    const out = [...config.profiles];
    const have = new Set(out.map((p) => pairKey(p.model, p.hardware)));
    const extra: ProfileOptions[] = [];
    for (const [key, p] of this.active) {
      if (have.has(key)) continue;
      have.add(key);
      extra.push(p);
    }
    for (const [key, tally] of this.passive) {
      if (have.has(key)) continue;
      const [model, hardware] = key.split('\u0000') as [string, string];
      const p = passiveProfile(model, hardware, passivePoints(tally, PASSIVE_MIN_SAMPLES).filter((x) => x.enough), this.port.wallClockMs());
      if (p) extra.push(p);
    }
    const { profiles, problems } = normaliseProfiles(extra, (i) => `measured profile ${i}`);
    for (const pr of problems) this.port.log.warn(`measured profile ignored: ${pr.path} ${pr.message}`);
    return [...out, ...profiles];
  }

  /** The active profiles asked for, and how each went. */
  requested(): ProfileRequest[] {
    return [...this.requests.values()];
  }

  /** Asks agents for an active profile of each planned model with no profile on their hardware, once each. */
  requestMissing(
    config: InferlineConfig, members: readonly MemberInfo[], ask: (member: MemberInfo, model: string) => Promise<ProfileOptions>,
  ): void {
    const known = new Set(this.all(config).map((p) => pairKey(p.model, p.hardware)));
    for (const m of members) {
      for (const model of m.models) {
        const usable = config.pipelines.some((p) => p.stages.some((st) => st.model === model && st.hardware.includes(m.hardware)));
        const key = `${m.agentId}\u0000${model}`;
        if (!usable || known.has(pairKey(model, m.hardware)) || this.requests.has(key)) continue;
        this.ask(m, model, key, ask);
      }
    }
  }

  private ask(m: MemberInfo, model: string, key: string, ask: (member: MemberInfo, model: string) => Promise<ProfileOptions>): void {
    const { log } = this.port;
    this.requests.set(key, { agentId: m.agentId, model, hardware: m.hardware, state: 'running' });
    log.info(`no profile of ${model} on ${m.hardware}: asking ${m.agentId} for an active profile`, { agent: m.agentId, model });
    ask(m, model).then((profile) => {
      this.active.set(pairKey(model, m.hardware), { ...profile, model, hardware: m.hardware });
      this.requests.set(key, { agentId: m.agentId, model, hardware: m.hardware, state: 'done', detail: `${profile.points.length} points` });
      if (!this.port.active()) return;
      this.port.measured(model, m.hardware);
    }, (err: unknown) => {
      const detail = err instanceof Error ? err.message : String(err);
      this.requests.set(key, { agentId: m.agentId, model, hardware: m.hardware, state: 'failed', detail });
      log.warn(`no active profile of ${model} from ${m.agentId}: ${detail}`, { agent: m.agentId, model });
    });
  }
}
