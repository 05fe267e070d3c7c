// The memory backend: one process, the embedded default (the demo, tests, a single agent). A hub
// plays the part of the etcd cluster — member records with TTLs, a lease cell that candidates
// compare-and-swap, the desired-state records — and each MemoryCoordinator is one agent's client
// of it. Election is client-go's rule (core/fleet/election.ts) over the hub's cell, so leases expire on
// each coordinator's own observation, as with Kubernetes. All time is the hub's Clock.
import {
  DEFAULT_ELECTION_TIMING, epochOf, type ElectionTiming, type LeaseRecord, type LockSnapshot,
} from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import {
  CoordinatorError, StaleEpochError, type Coordinator, type DesiredStateRecord, type JsonValue, type Listener, type MemberInfo, type RegisterOptions, type Registration, type Subscription,
} from '../ports/coordinator.js';
import { systemClock } from '../platform/system-clock.js';
import { ElectedCoordinator } from './elected-coordinator.js';
import { WatchSet } from './watch-set.js';
import { LeaseElector } from './lease-elector.js';
import { LockConflictError, type LeaseLock } from './lease-lock.js';
import { checkMemberInfo, DEFAULT_MEMBER_TTL_MS } from './member-info.js';
import { settleWithin } from './util.js';

export type HubEvent = { kind: 'members' } | { kind: 'desired'; agentId: string };

/**
 * What a MemoryCoordinator needs of its hub: the hub itself in this process, or a thin client of
 * a hub another process serves on loopback (hub-server.ts, hub-client.ts; the demo's agents run as
 * processes of their own). Owners are opaque tokens of one registration.
 */
export interface CoordinationHub {
  readonly clock: Clock;
  lock(name: string): LeaseLock;
  putMember(info: MemberInfo, ttlMs: number, owner: object): void | Promise<void>;
  renewMember(agentId: string, owner: object): boolean | Promise<boolean>;
  removeMember(agentId: string, owner: object): void | Promise<void>;
  liveMembers(): MemberInfo[] | Promise<MemberInfo[]>;
  readDesired(agentId: string): DesiredStateRecord | undefined | Promise<DesiredStateRecord | undefined>;
  writeDesired(lockName: string, agentId: string, spec: JsonValue, epoch: number, writtenBy: string): DesiredStateRecord | Promise<DesiredStateRecord>;
  /** Calls `listener` after each change; returns the unsubscribe. */
  subscribe(listener: (e: HubEvent) => void): () => void;
}

interface MemberEntry {
  info: MemberInfo;
  expiresAtMs: number;
  ttlMs: number;
  /** The registration that owns the entry; a newer registration of the same id replaces it. */
  readonly owner: object;
}

interface Cell {
  snapshot: LockSnapshot;
  /** Hub time of the last write: the hub is the server, so its own view of expiry is exact. */
  changedAtMs: number;
}

/** The shared state of the memory backend: what an etcd cluster would hold. */
export class MemoryCoordinationHub implements CoordinationHub {
  readonly clock: Clock;
  private readonly cells = new Map<string, Cell>();
  private readonly members = new Map<string, MemberEntry>();
  private readonly desired = new Map<string, DesiredStateRecord>();
  private readonly listeners = new Set<(e: HubEvent) => void>();
  private revision = 0;
  private expiryTimer: AbortController | undefined;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  /** The lease cell `name` as a LeaseLock (compare-and-swap on a version counter). */
  lock(name: string): LeaseLock {
    return {
      description: `memory lease "${name}"`,
      get: () => Promise.resolve(this.cells.get(name)?.snapshot),
      create: (record) => {
        if (this.cells.has(name)) return Promise.reject(new LockConflictError(`lease "${name}" exists`));
        return Promise.resolve(this.writeCell(name, record));
      },
      update: (record, version) => {
        if (this.cells.get(name)?.snapshot.version !== version) return Promise.reject(new LockConflictError(`lease "${name}" changed`));
        return Promise.resolve(this.writeCell(name, record));
      },
    };
  }

  /** The epoch in force under lease `name`, judged by the hub: undefined when released or expired. */
  currentEpoch(name: string): number | undefined {
    const cell = this.cells.get(name);
    if (cell === undefined) return undefined;
    const { record } = cell.snapshot;
    if (record.holderIdentity === '' || cell.changedAtMs + record.leaseDurationMs <= this.clock.nowMs()) return undefined;
    return epochOf(record);
  }

  putMember(info: MemberInfo, ttlMs: number, owner: object): void {
    this.members.set(info.agentId, { info, ttlMs, expiresAtMs: this.clock.nowMs() + ttlMs, owner });
    this.membersChanged();
  }

  /** Extends the entry's TTL; false when it is gone or owned by a newer registration. */
  renewMember(agentId: string, owner: object): boolean {
    const entry = this.members.get(agentId);
    if (entry?.owner !== owner) return false;
    entry.expiresAtMs = this.clock.nowMs() + entry.ttlMs;
    this.armExpiry();
    return true;
  }

  removeMember(agentId: string, owner: object): void {
    if (this.members.get(agentId)?.owner !== owner) return;
    this.members.delete(agentId);
    this.membersChanged();
  }

  liveMembers(): MemberInfo[] {
    const now = this.clock.nowMs();
    return [...this.members.values()].filter((m) => m.expiresAtMs > now).map((m) => m.info)
      .sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  }

  readDesired(agentId: string): DesiredStateRecord | undefined {
    return this.desired.get(agentId);
  }

  /** The fenced write: checked and applied in one synchronous step, so atomically. */
  writeDesired(lockName: string, agentId: string, spec: JsonValue, epoch: number, writtenBy: string): DesiredStateRecord {
    const current = this.currentEpoch(lockName);
    if (current !== epoch) throw new StaleEpochError(agentId, epoch, current);
    const record: DesiredStateRecord = { agentId, spec: structuredClone(spec), epoch, writtenBy, revision: String(++this.revision) };
    this.desired.set(agentId, record);
    this.emit({ kind: 'desired', agentId });
    return record;
  }

  subscribe(listener: (e: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private writeCell(name: string, record: LeaseRecord): LockSnapshot {
    const snapshot: LockSnapshot = { record: { ...record }, version: String(++this.revision) };
    this.cells.set(name, { snapshot, changedAtMs: this.clock.nowMs() });
    return snapshot;
  }

  private membersChanged(): void {
    this.armExpiry();
    this.emit({ kind: 'members' });
  }

  private emit(e: HubEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  /** Sleeps until the next member expires, then drops the expired ones and tells the watchers. */
  private armExpiry(): void {
    this.expiryTimer?.abort();
    const next = Math.min(...[...this.members.values()].map((m) => m.expiresAtMs));
    if (!Number.isFinite(next)) return;
    const timer = new AbortController();
    this.expiryTimer = timer;
    this.clock.sleep(Math.max(0, next - this.clock.nowMs()), timer.signal).then(() => {
      const now = this.clock.nowMs();
      let dropped = false;
      for (const [id, m] of this.members) {
        if (m.expiresAtMs <= now) {
          this.members.delete(id);
          dropped = true;
        }
      }
      if (dropped) this.membersChanged();
      else this.armExpiry();
    }, () => undefined);
  }
}

/** Calls `use` with the value: in this step when it is one, once it settles when it is a promise. */
function now<T>(value: T | Promise<T>, use: (v: T) => void, onError: (err: unknown) => void): void {
  if (value instanceof Promise) value.then(use, onError);
  else use(value);
}

let processHub: MemoryCoordinationHub | undefined;

/** The hub every memory coordinator of this process shares unless given another. */
export function processMemoryHub(): MemoryCoordinationHub {
  processHub ??= new MemoryCoordinationHub(systemClock);
  return processHub;
}

export interface MemoryCoordinatorOptions {
  /** This agent's id: what it campaigns and writes as. */
  readonly identity: string;
  /** Default: the process-wide hub (system clock). */
  readonly hub?: CoordinationHub;
  readonly timing?: ElectionTiming;
  readonly memberTtlMs?: number;
  /** Name of the lease cell (default "leader"). */
  readonly leaseName?: string;
  /** Errors of background work (renewals, listeners); the work goes on. */
  readonly onError?: (err: unknown) => void;
}

interface MemoryRegistration extends Registration {
  /** Stops renewing without removing (what a killed process does). */
  abandon(): void;
}

export class MemoryCoordinator extends ElectedCoordinator implements Coordinator {
  readonly backend = 'memory' as const;
  readonly identity: string;
  private readonly hub: CoordinationHub;
  private readonly clock: Clock;
  private readonly leaseName: string;
  private readonly memberTtlMs: number;
  private readonly onError: (err: unknown) => void;
  protected readonly elector: LeaseElector;
  private readonly registrations = new Set<MemoryRegistration>();
  private unsubscribeHub: (() => void) | undefined;
  protected readonly watches: WatchSet;
  private started = false;

  private constructor(options: MemoryCoordinatorOptions) {
    super();
    this.identity = options.identity;
    this.hub = options.hub ?? processMemoryHub();
    this.clock = this.hub.clock;
    this.leaseName = options.leaseName ?? 'leader';
    this.memberTtlMs = options.memberTtlMs ?? DEFAULT_MEMBER_TTL_MS;
    this.onError = options.onError ?? (() => undefined);
    this.watches = new WatchSet(this.onError);
    this.elector = new LeaseElector({
      backend: 'memory', identity: this.identity, lock: this.hub.lock(this.leaseName),
      timing: options.timing ?? DEFAULT_ELECTION_TIMING, clock: this.clock, onError: this.onError,
    });
  }

  static async create(options: MemoryCoordinatorOptions): Promise<MemoryCoordinator> {
    if (options.identity === '') throw new CoordinatorError('memory', 'identity must not be empty');
    return new MemoryCoordinator(options);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.unsubscribeHub = this.hub.subscribe((e) => {
      // The local hub answers at once, and its watchers hear of a change in the same step.
      if (e.kind === 'members') now(this.hub.liveMembers(), (m) => this.watches.memberFeed.publish(m), this.onError);
      else now(this.hub.readDesired(e.agentId), (r) => this.watches.desiredFeeds.get(e.agentId)?.publish(r), this.onError);
    });
    this.elector.start();
  }

  async stop(deadlineMs = 5000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await settleWithin(this.clock, this.elector.stop(deadlineMs), deadlineMs);
    // A hub in another process may be gone already (its process ended first): the watches close all the same.
    for (const r of [...this.registrations]) await r.deregister().catch(this.onError);
    this.closeWatches();
  }

  /** Stops without resigning or deregistering, as a killed process would (tests of expiry). */
  async abandon(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const r of [...this.registrations]) r.abandon();
    this.elector.abandon();
    this.closeWatches();
  }

  async register(info: MemberInfo, options: RegisterOptions = {}): Promise<Registration> {
    this.ensureStarted();
    checkMemberInfo('memory', info);
    const ttlMs = options.ttlMs ?? this.memberTtlMs;
    const owner = {};
    const stop = new AbortController();
    const agentId = info.agentId;
    await this.hub.putMember(info, ttlMs, owner);
    const renew = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        await this.clock.sleep(ttlMs / 3, stop.signal).catch(() => undefined);
        if (stop.signal.aborted) return;
        // Gone (expired while this process stalled): register again, as the etcd backend does.
        try {
          if (!await this.hub.renewMember(agentId, owner)) await this.hub.putMember(current, ttlMs, owner);
        } catch (err) {
          this.onError(err);
        }
      }
    };
    let current = info;
    void renew();
    const registration: MemoryRegistration = {
      agentId,
      update: async (next) => {
        checkMemberInfo('memory', next);
        if (next.agentId !== agentId) throw new CoordinatorError('memory', `update() of "${agentId}" with agentId "${next.agentId}"`);
        current = next;
        if (!stop.signal.aborted) await this.hub.putMember(next, ttlMs, owner);
      },
      deregister: async () => {
        if (stop.signal.aborted) return;
        stop.abort();
        this.registrations.delete(registration);
        await this.hub.removeMember(agentId, owner);
      },
      abandon: () => {
        stop.abort();
        this.registrations.delete(registration);
      },
    };
    this.registrations.add(registration);
    return registration;
  }

  async members(): Promise<readonly MemberInfo[]> {
    this.ensureStarted();
    return this.hub.liveMembers();
  }

  async watchMembers(listener: Listener<readonly MemberInfo[]>): Promise<Subscription> {
    this.ensureStarted();
    return this.watches.watchMembers(await this.hub.liveMembers(), listener);
  }

  async readDesired(agentId: string): Promise<DesiredStateRecord | undefined> {
    this.ensureStarted();
    const record = await this.hub.readDesired(agentId);
    return record === undefined ? undefined : structuredClone(record);
  }

  async writeDesired(agentId: string, spec: JsonValue, epoch: number): Promise<DesiredStateRecord> {
    this.ensureStarted();
    return this.hub.writeDesired(this.leaseName, agentId, spec, epoch, this.identity);
  }

  async watchDesired(agentId: string, listener: Listener<DesiredStateRecord | undefined>): Promise<Subscription> {
    this.ensureStarted();
    return this.watches.watchDesired(agentId, () => this.hub.readDesired(agentId), listener);
  }

  private closeWatches(): void {
    this.unsubscribeHub?.();
    this.unsubscribeHub = undefined;
    this.watches.close();
  }

  protected ensureStarted(): void {
    if (!this.started) throw new CoordinatorError('memory', 'the coordinator is not started');
  }
}
