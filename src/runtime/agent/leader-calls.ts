// The calls of the agent API only the leader serves: samples pushed by agents (only a live member,
// only as itself, only for its models), a re-plan now, and a fleet policy to store. On an agent
// that does not lead they are refused with 409, naming the leader where it helps.
import { parsePolicy } from '../../core/fleet/index.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { HttpProblem } from '../agent-http.js';
import type { RateLimitedLog } from '../rate-limited-log.js';
import { credentialMatches } from './credential.js';
import type { Leader } from './leader.js';
import { parsePushedSamples } from './samples.js';

/** What the calls need of the agent that serves them. */
export interface LeaderCallsPort {
  readonly agentId: string;
  readonly telemetry: Telemetry;
  /** Refused pushes, one log line per reason per interval with a count. */
  readonly rejectedPushes: RateLimitedLog;
  /** This agent's Leader while it leads. */
  leader(): Leader | undefined;
  /** The leader the watch last named. */
  leaderId(): string | undefined;
  /** The fleet's agent API token. */
  token(): string;
  /** The pipelines this agent's config names. */
  pipelines(): readonly string[];
}

export class LeaderCalls {
  private readonly port: LeaderCallsPort;

  constructor(port: LeaderCallsPort) {
    this.port = port;
  }

  /**
   * Samples an agent pushed: only a live member, only as itself (its credential, credential.ts),
   * only for models it hosts. Anything else is refused (403) and counted; the refusal names no
   * secret and echoes nothing the caller sent but the id it claimed.
   */
  samples(body: unknown, credential: string | undefined): void {
    const leader = this.leaderOrRefuse(true);
    const { agentId, samples } = parsePushedSamples(body);
    const refuse = (reason: 'unknown-member' | 'bad-credential' | 'foreign-model', message: string): never => {
      this.port.telemetry.recordRejectedPush({ reason });
      this.port.rejectedPushes.warn(reason, `samples refused (${reason}): ${message}`);
      throw new HttpProblem(403, message);
    };
    const member = leader.member(agentId);
    if (member === undefined) return refuse('unknown-member', `agent ${JSON.stringify(agentId.slice(0, 100))} is not a member of the fleet`);
    if (!credentialMatches(this.port.token(), agentId, credential)) return refuse('bad-credential', `the credential for agent ${agentId} is missing or wrong`);
    const foreign = samples.filter((s) => !member.models.includes(s.model)).map((s) => s.model);
    if (foreign.length > 0) return refuse('foreign-model', `agent ${agentId} does not host ${[...new Set(foreign)].slice(0, 5).join(', ')}`);
    leader.onSamples(agentId, samples);
  }

  replan(): Promise<unknown> {
    const leader = this.leaderOrRefuse(true);
    return Promise.resolve({ plans: leader.replan('POST /v1/replan') });
  }

  async policy(body: unknown): Promise<void> {
    const leader = this.leaderOrRefuse(false);
    const { policy, problem } = parsePolicy(body);
    if (problem !== undefined || policy === undefined) throw new HttpProblem(400, `bad fleet policy: ${problem ?? 'unreadable'}`);
    const known = this.port.pipelines();
    const unknown = Object.keys(policy.slos).filter((p) => !known.includes(p));
    if (unknown.length > 0) throw new HttpProblem(400, `bad fleet policy: unknown pipelines ${unknown.join(', ')}`);
    if (!(await leader.publishPolicy(policy))) throw new HttpProblem(409, `the fleet's policy was written later than ${new Date(policy.atMs).toISOString()}: kept`);
  }

  /** This agent's Leader, or a 409 (naming the leader when `named`). */
  private leaderOrRefuse(named: boolean): Leader {
    const leader = this.port.leader();
    const leaderId = this.port.leaderId();
    if (!leader) throw new HttpProblem(409, `${this.port.agentId} is not the leader${named && leaderId ? `; the leader is ${leaderId}` : ''}`);
    return leader;
  }
}
