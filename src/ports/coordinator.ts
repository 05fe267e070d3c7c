// The Coordinator port: membership, leader election with a fencing epoch, and the durable desired
// state of each agent, behind one interface with three backends (src/coordination: memory, etcd,
// kubernetes). Only the leader writes desired state; every write carries the leader's epoch and
// the BACKEND rejects a write whose epoch is not the current leadership's, atomically (etcd: one
// transaction comparing the leader key's create revision), so a deposed leader that has not yet
// noticed can change nothing.
//
// Watches are level-triggered: a listener gets the current value when it subscribes and the new
// value after every change it sees (never a diff), so a missed event costs a refresh, not a wrong
// state. Listeners are called one at a time per subscription; a throwing listener is reported
// through the backend's onError and the watch goes on.
import type { ServerKind } from './server-adapter.js';

export type CoordinationBackend = 'memory' | 'etcd' | 'kubernetes';
export const COORDINATION_BACKENDS: readonly CoordinationBackend[] = ['memory', 'etcd', 'kubernetes'];

/** What an agent says about itself when it registers (the leader places replicas with it). */
export interface MemberInfo {
  readonly agentId: string;
  readonly serverKind: ServerKind;
  /** The hardware type of this server (a `hardware[].name` of the config). */
  readonly hardware: string;
  /** Models the server hosts. */
  readonly models: readonly string[];
  /** Replicas this server can host. */
  readonly capacity: number;
  /** Base URL of the agent's HTTP API (samples are pushed to the leader's). */
  readonly endpoint?: string;
}

export interface RegisterOptions {
  /** How long the member stays listed after its process stops renewing (default: the backend's memberTtl). */
  readonly ttlMs?: number;
}

/** A live registration: renewed in the background until deregistered or the coordinator stops. */
export interface Registration {
  readonly agentId: string;
  /** Replaces the member's info (same agentId); the TTL is unchanged. */
  update(info: MemberInfo): Promise<void>;
  /** Removes the member at once; idempotent. */
  deregister(): Promise<void>;
}

export interface Membership {
  /** Registers (or re-registers) a member; it disappears `ttlMs` after renewals stop. */
  register(info: MemberInfo, options?: RegisterOptions): Promise<Registration>;
  /** The live members, sorted by agentId. */
  members(): Promise<readonly MemberInfo[]>;
  /** Calls `listener` with the live members now and after each change. */
  watchMembers(listener: Listener<readonly MemberInfo[]>): Promise<Subscription>;
}

/** The leader as one coordinator observes it. */
export interface LeaderSnapshot {
  /** The leader's agent id; undefined while there is none. */
  readonly leaderId: string | undefined;
  /** The fencing epoch of that leadership; with no leader, the last one observed (0 before any). */
  readonly epoch: number;
}

/**
 * One term of leadership. Its `signal` aborts, with a LeaseLostError as the reason, the moment this
 * process can no longer be sure it leads: the lease expired, could not be renewed within the renew
 * deadline, was taken or deleted, or was resigned, or the coordinator stopped. A leader passes the
 * signal to everything it does as leader, and stops acting when it fires.
 */
export interface Leadership {
  readonly agentId: string;
  /** Increases with every new leadership of this backend's cluster; carried by every write. */
  readonly epoch: number;
  readonly signal: AbortSignal;
  /** Gives up the lease so that another candidate takes over at once; idempotent. */
  resign(): Promise<void>;
}

export interface CampaignOptions {
  /** Stops campaigning: campaign() then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface LeaderElection {
  /** Campaigns as this coordinator's identity until elected. One Leadership per call. */
  campaign(options?: CampaignOptions): Promise<Leadership>;
  /** The current leader and epoch. */
  leader(): Promise<LeaderSnapshot>;
  /** Calls `listener` with the leader now and after each change of leader or epoch. */
  watchLeader(listener: Listener<LeaderSnapshot>): Promise<Subscription>;
}

/** JSON: what the store keeps for an agent (the agent module owns the spec's shape). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The desired state of one agent, as last written by a leader. */
export interface DesiredStateRecord {
  readonly agentId: string;
  readonly spec: JsonValue;
  /** The epoch of the leadership that wrote it. */
  readonly epoch: number;
  /** Identity of the coordinator that wrote it. */
  readonly writtenBy: string;
  /** The backend's version of the record (etcd mod revision, Kubernetes resourceVersion, a counter); changes on every write. */
  readonly revision: string;
}

export interface DesiredStateStore {
  readDesired(agentId: string): Promise<DesiredStateRecord | undefined>;
  /**
   * Writes `spec` for `agentId`, fenced by `epoch`.
   * @throws StaleEpochError when `epoch` is not the current leadership's; nothing was written.
   */
  writeDesired(agentId: string, spec: JsonValue, epoch: number): Promise<DesiredStateRecord>;
  /** Calls `listener` with the record now and after each write (undefined while there is none). */
  watchDesired(agentId: string, listener: Listener<DesiredStateRecord | undefined>): Promise<Subscription>;
}

export type Listener<T> = (value: T) => void;

export interface Subscription {
  /** Stops the watch; idempotent. */
  close(): Promise<void>;
}

/**
 * The port. Built by a backend's `static async create()`; `start()` and `stop()` are idempotent;
 * `stop()` resigns a leadership this coordinator holds, deregisters its members and closes its
 * watches, within the deadline.
 */
export interface Coordinator extends Membership, LeaderElection, DesiredStateStore {
  readonly backend: CoordinationBackend;
  /** The agent id this coordinator campaigns and writes as. */
  readonly identity: string;
  start(): Promise<void>;
  stop(deadlineMs?: number): Promise<void>;
}

/** Why a leadership ended. */
export type LeaseLostReason =
  | 'renew-deadline' // no successful renewal within the renew deadline (the backend was unreachable or slow)
  | 'expired' // the backend says the lease has expired
  | 'taken' // another identity holds the lease
  | 'deleted' // the leader key or Lease object was removed
  | 'resigned'
  | 'stopped';

/** The reason a Leadership's signal aborts with: from then on this process is not the leader. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  readonly epoch: number;
  readonly reason: LeaseLostReason;

  constructor(epoch: number, reason: LeaseLostReason, options?: { cause?: unknown }) {
    super(`leadership of epoch ${epoch} ended: ${reason}`, options);
    this.epoch = epoch;
    this.reason = reason;
  }
}

/** A desired-state write whose epoch is not the current leadership's; the backend wrote nothing. */
export class StaleEpochError extends Error {
  override readonly name = 'StaleEpochError';
  readonly agentId: string;
  readonly epoch: number;
  /** The epoch in force when the write was rejected; undefined when there is no leader. */
  readonly currentEpoch: number | undefined;

  constructor(agentId: string, epoch: number, currentEpoch: number | undefined) {
    super(`desired state of "${agentId}" not written: epoch ${epoch} is stale (${currentEpoch === undefined ? 'no leader now' : `current epoch ${currentEpoch}`})`);
    this.agentId = agentId;
    this.epoch = epoch;
    this.currentEpoch = currentEpoch;
  }
}

/** The backend failed (unreachable, refused, malformed data); `cause` is the backend's error. */
export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  readonly backend: CoordinationBackend;
  /** What failed, without the cause ("renew a member lease"): a stable key for rate-limited logs. */
  readonly operation: string;

  constructor(backend: CoordinationBackend, message: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    const why = cause instanceof Error ? `: ${cause.message}` : cause !== undefined ? `: ${String(cause)}` : '';
    super(`${backend}: ${message}${why}`, options);
    this.backend = backend;
    this.operation = message;
  }
}
