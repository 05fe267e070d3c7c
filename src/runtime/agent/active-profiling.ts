// POST /v1/profile {model}: an active sweep of one model on this agent's server, at the leader's
// request, when agent.profiling.active allows it; one at a time.
import { activeProfile } from '../../core/profiler/table.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { ServerAdapter } from '../../ports/server-adapter.js';
import { HttpProblem } from '../agent-http.js';
import { runActiveProfile } from '../profiler/index.js';

/** An active profile at the leader's request: the profiler's budget, plus time to start and restore. */
export const PROFILE_BUDGET_MS = 120_000;
export const PROFILE_TIMEOUT_MS = PROFILE_BUDGET_MS + 60_000;

export interface ActiveProfilingOptions {
  readonly agentId: string;
  readonly hardware: string;
  readonly adapter: ServerAdapter;
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborts a sweep when the agent stops. */
  readonly signal: AbortSignal;
}

export class ActiveProfiling {
  private readonly o: ActiveProfilingOptions;
  private profiling: string | undefined;

  constructor(options: ActiveProfilingOptions) {
    this.o = options;
  }

  /** Answers a profile request: `allowed` is agent.profiling.active, `models` what this agent manages. */
  async onRequest(body: unknown, allowed: boolean, models: readonly string[]): Promise<unknown> {
    const { agentId, hardware } = this.o;
    const model = (body as { model?: unknown } | null)?.model;
    if (typeof model !== 'string' || model === '') throw new HttpProblem(400, 'bad profile request: model must be a model name');
    if (!allowed) throw new HttpProblem(403, `${agentId} does not profile actively (agent.profiling.active is false)`);
    if (!models.includes(model)) throw new HttpProblem(404, `${agentId} does not manage model "${model}" (it manages: ${models.join(', ')})`);
    if (this.profiling !== undefined) throw new HttpProblem(409, `${agentId} is already profiling ${this.profiling}`);
    this.profiling = model;
    try {
      this.o.log.info(`active profile of ${model} on ${hardware}, at the leader's request`, { agent: agentId, model });
      const r = await runActiveProfile(this.o.adapter, { model, hardware: [{ name: hardware }], budgetMs: PROFILE_BUDGET_MS }, { clock: this.o.clock, signal: this.o.signal });
      const hw = r.hardware[0];
      const profile = hw ? activeProfile(model, hardware, hw.points) : undefined;
      if (profile === undefined) throw new HttpProblem(500, `profiling ${model} measured nothing${hw?.error ? `: ${hw.error}` : ''}`);
      return { profile };
    } catch (err) {
      if (err instanceof HttpProblem) throw err;
      // Live traffic, a server that refuses: the leader reports it and plans without this pair.
      throw new HttpProblem(409, `profiling ${model} did not run: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.profiling = undefined;
    }
  }
}
