// The one client for an agent's calls to the leader (samples, the fleet policy: in-process while
// this agent leads, else POST over the agent API, agent-http.ts) and for the leader's call to an
// agent (POST /v1/profile). Failures are typed errors with a stable name and the failure as cause
// (STYLE.md §8), so callers and the telemetry classify them by class, never by message text.
import { z } from 'zod';
import type { FleetPolicy } from '../../core/fleet/index.js';
import type { ProfileOptions } from '../../core/model/profiles.js';
import type { MemberInfo } from '../../ports/coordinator.js';
import type { AdapterError } from '../../ports/server-adapter.js';
import type { ModelSample } from '../../core/observe/sample.js';
import { agentCredential, CREDENTIAL_HEADER } from './credential.js';
import { inlineProfileSchema } from '../../config/schema.js';
import { firstIssue } from '../../core/model/schema-issue.js';

const PUSH_TIMEOUT_MS = 2000;

/** An agent's answer to POST /v1/profile: a profile as a profile file holds it. */
const profileAnswer = z.object({ profile: inlineProfileSchema });

/** A peer answered with a status that is not success. */
export class PeerStatusError extends Error {
  override readonly name: string = 'PeerStatusError';
  readonly status: number;
  readonly path: string;

  constructor(message: string, args: { status: number; path: string; cause?: unknown }) {
    super(message, args.cause === undefined ? undefined : { cause: args.cause });
    this.status = args.status;
    this.path = args.path;
  }
}

/** The leader (or agent) refused with 409: not the leader, a newer policy kept, a profile already running. */
export class LeaderConflictError extends PeerStatusError {
  override readonly name: string = 'LeaderConflictError';
}

/** The call timed out. */
export class PeerTimeoutError extends Error {
  override readonly name = 'PeerTimeoutError';
}

/** The peer could not be reached (refused, reset, no route, no such host). */
export class PeerUnreachableError extends Error {
  override readonly name = 'PeerUnreachableError';
}

/** There is no leader to call, or the peer to call has no endpoint. */
export class NoPeerError extends Error {
  override readonly name = 'NoPeerError';
}

/** The peer answered 200 with nothing usable. */
export class PeerAnswerError extends Error {
  override readonly name = 'PeerAnswerError';
}

/** The telemetry's error type of a failure: 'http', 'timeout', 'unreachable' or 'error'. By name: a module loaded twice carries its own classes. */
export function errorTypeOf(err: unknown): 'http' | 'timeout' | 'unreachable' | 'error' {
  if (!(err instanceof Error)) return 'error';
  switch (err.name) {
    case 'PeerStatusError':
    case 'LeaderConflictError':
      return 'http';
    case 'PeerTimeoutError':
    case 'TimeoutError':
    case 'PeriodicTimeoutError':
      return 'timeout';
    case 'PeerUnreachableError':
    case 'NoPeerError':
      return 'unreachable';
    case 'AdapterError': {
      // An answer with a status is 'http' whatever its kind (auth, not-found): the server answered.
      const { kind, status } = err as Partial<AdapterError>;
      if (status !== undefined || kind === 'http') return 'http';
      return kind === 'timeout' || kind === 'unreachable' ? kind : 'error';
    }
    default:
      return 'error';
  }
}

/** A failure of fetch itself (no answer), as a typed error; anything else (an abort on stop) as it was. */
export function transportError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (err.name === 'TimeoutError') return new PeerTimeoutError(err.message, { cause: err });
  // fetch rejects with a TypeError when no answer came (refused, reset, DNS): the code is on its cause.
  if (err instanceof TypeError && err.cause !== undefined) return new PeerUnreachableError(err.message, { cause: err });
  return err;
}

/** A status error of the right class. */
export function statusError(message: string, status: number, path: string): PeerStatusError {
  return status === 409 ? new LeaderConflictError(message, { status, path }) : new PeerStatusError(message, { status, path });
}

/** Where the leader is: this agent's own (in-process), or another agent's API. */
export type LeaderLocation =
  | { readonly kind: 'local'; readonly leader: LocalLeader }
  | { readonly kind: 'remote'; readonly leaderId: string | undefined; readonly endpoint: string | undefined };

/** What the client calls on a leader in this process. */
export interface LocalLeader {
  onSamples(agentId: string, samples: readonly ModelSample[]): void;
  publishPolicy(policy: FleetPolicy): Promise<boolean>;
}

export interface PeerClientOptions {
  readonly agentId: string;
  /** The fleet's agent API token. */
  readonly token: string;
  /** Where the leader is now. */
  readonly locate: () => LeaderLocation;
}

export class PeerClient {
  private readonly o: PeerClientOptions;

  constructor(options: PeerClientOptions) {
    this.o = options;
  }

  /** Pushes samples to the leader; says which way they went; rejects with NoPeerError when there is none to push to. */
  async pushSamples(samples: readonly ModelSample[]): Promise<LeaderLocation['kind']> {
    const where = this.o.locate();
    if (where.kind === 'local') {
      where.leader.onSamples(this.o.agentId, samples);
      return 'local';
    }
    if (where.leaderId === undefined) throw new NoPeerError('no leader to push samples to');
    if (where.endpoint === undefined) throw new NoPeerError(`leader ${where.leaderId} has no endpoint`);
    await this.post(where.endpoint, '/v1/samples', { agentId: this.o.agentId, samples });
    return 'remote';
  }

  /** Sends a fleet policy to the leader to store; false when there is no leader to send it to (yet). */
  async publishPolicy(policy: FleetPolicy): Promise<boolean> {
    const where = this.o.locate();
    if (where.kind === 'local') {
      await where.leader.publishPolicy(policy);
      return true;
    }
    if (where.endpoint === undefined) return false;
    await this.post(where.endpoint, '/v1/policy', policy);
    return true;
  }

  /** The leader's side: asks `member` for an active profile of `model`. */
  async requestProfile(member: MemberInfo, model: string, signal: AbortSignal): Promise<ProfileOptions> {
    if (member.endpoint === undefined) throw new NoPeerError(`${member.agentId} has no endpoint`);
    const path = '/v1/profile';
    const { status, text } = await send(`${member.endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}` },
      body: JSON.stringify({ model }),
      signal,
    });
    if (status !== 200) throw statusError(`POST ${path} → ${status}: ${text.trim().slice(0, 300)}`, status, path);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PeerAnswerError(`POST ${path} answered no JSON`);
    }
    const answer = profileAnswer.safeParse(body);
    if (!answer.success) throw new PeerAnswerError(`POST ${path} answered no usable profile: ${firstIssue(answer.error)}`);
    return answer.data.profile;
  }

  private async post(base: string, path: string, body: unknown): Promise<unknown> {
    const { status, text } = await send(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', authorization: `Bearer ${this.o.token}`,
        [CREDENTIAL_HEADER]: agentCredential(this.o.token, this.o.agentId),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
    });
    if (status >= 300) throw statusError(`POST ${path} → ${status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`, status, path);
    return text === '' ? undefined : JSON.parse(text) as unknown;
  }
}

async function send(url: string, init: RequestInit): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(url, init);
    return { status: res.status, text: await res.text() };
  } catch (err) {
    throw transportError(err);
  }
}
