// Sharing this agent's SLOs and prices with the fleet: the leader writes them, fenced, when they
// differ from the stored ones and this agent's config was written later. The fleet keeps the most
// recently written config's, so an agent restarted on a stale file changes nothing. Tried again on
// the next change of leader or members until it is stored.
import type { InferlineConfig } from '../../config/index.js';
import { parsePolicy, policyDiff, policyOf } from '../../core/fleet/index.js';
import type { FleetPolicy } from '../../core/fleet/index.js';
import type { JsonValue } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import { LeaderConflictError } from './peer-client.js';
import type { PeerClient } from './peer-client.js';

export interface PolicyShareOptions {
  readonly agentId: string;
  readonly log: Logger;
  readonly client: PeerClient;
  /** When this agent's config was written (ms since the epoch): its policy's timestamp. */
  readonly configTimeMs: number;
}

export class PolicyShare {
  private readonly o: PolicyShareOptions;
  private stored: FleetPolicy | undefined;
  /** When this agent's config was written: its policy's timestamp. */
  private configTimeMs: number;
  /** This agent's policy is newer than the fleet's and not yet stored. */
  private pendingNow = true;

  constructor(options: PolicyShareOptions) {
    this.o = options;
    this.configTimeMs = options.configTimeMs;
  }

  get pending(): boolean {
    return this.pendingNow;
  }

  /** The fleet's policy as the coordinator stores it (the watch), undefined when none or unreadable. */
  onStored(spec: JsonValue | undefined): void {
    this.stored = spec === undefined ? undefined : parsePolicy(spec).policy;
  }

  /** A config change: when its SLOs or prices changed, they are shared as of `timeMs` (default now). */
  onConfigChange(previous: InferlineConfig, config: InferlineConfig, timeMs: number | undefined): void {
    const at = timeMs ?? Date.now();
    const before = policyOf(previous.pipelines, previous.hardware, this.o.agentId, this.configTimeMs);
    const after = policyOf(config.pipelines, config.hardware, this.o.agentId, at);
    if (policyDiff(before, after).length === 0) return;
    this.configTimeMs = at;
    this.pendingNow = true;
    void this.share(config);
  }

  /** Sends `config`'s policy to the leader unless the fleet's is the same or newer. */
  async share(config: InferlineConfig): Promise<void> {
    const policy = policyOf(config.pipelines, config.hardware, this.o.agentId, this.configTimeMs);
    const stored = this.stored;
    if (stored && (policyDiff(stored, policy).length === 0 || stored.atMs >= policy.atMs)) {
      this.pendingNow = false;
      return;
    }
    try {
      // No leader yet: the next leader or member change tries again.
      if (!(await this.o.client.publishPolicy(policy))) return;
      this.pendingNow = false;
    } catch (err) {
      this.o.log.error(`fleet policy not shared: ${err instanceof Error ? err.message : String(err)}`, { agent: this.o.agentId });
      if (err instanceof LeaderConflictError) this.pendingNow = false; // the fleet's is newer
    }
  }
}
