// The etcd backend (etcd3 client, etcd v3 API). Keys under the prefix (default /inferline/):
//   members/<agentId>   member info, attached to the member's lease (TTL = memberTtl)
//   leader              {agentId}, attached to the leader's lease (TTL = leaseDuration)
//   desired/<agentId>   {spec, epoch, writtenBy}
// The fencing epoch is the leader key's create revision: etcd's revision only grows, and every
// new leadership creates the key anew. A desired-state write is ONE transaction: "if the leader
// key's create revision is still my epoch, put", so once the leader's lease has expired, been
// revoked or resigned, its writes fail atomically, however late they arrive.
// The leader renews its lease itself, one keep-alive every retry period, and stops leading when no
// renewal has succeeded for the renew deadline (client-go's rule; etcd3's own keep-alive would
// wait up to twice the TTL before giving up, too late to be safe).
import { Etcd3, EtcdLeaseInvalidError, type IOptions, type IKeyValue, type Lease, type Namespace } from 'etcd3';
import { DEFAULT_ELECTION_TIMING, type ElectionTiming } from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import {
  CoordinatorError, LeaseLostError, StaleEpochError, type CampaignOptions, type Coordinator, type DesiredStateRecord, type JsonValue,
  type LeaderSnapshot, type Leadership, type LeaseLostReason, type Listener, type MemberInfo, type RegisterOptions, type Registration,
  type Subscription,
} from '../ports/coordinator.js';
import { systemClock } from '../platform/system-clock.js';
import { jsonEqual } from './feed.js';
import { byAgentId, checkMemberInfo, DEFAULT_MEMBER_TTL_MS, parseMemberInfo } from './member-info.js';
import { clientOptionsOf, type EtcdCoordinatorOptions } from './etcd-options.js';
import { EtcdRegistration, ttlSeconds } from './etcd-registration.js';
import { sharedWatch, type SharedWatch } from './etcd-watch.js';
import { createLeaderKey, deleteLeaderKey, desiredKey, LEADER_KEY, leaderIdOf } from './etcd-keys.js';

export type { EtcdCoordinatorOptions, EtcdTlsFiles } from './etcd-options.js';
import { desiredRecordJson, parseDesiredRecord } from './desired-record.js';
import { settleWithin, withTimeout } from './util.js';

interface Term {
  readonly epoch: number;
  readonly lease: Lease;
  readonly controller: AbortController;
  readonly leadership: Leadership;
  renewedAtMs: number;
}

export class EtcdCoordinator implements Coordinator {
  readonly backend = 'etcd' as const;
  readonly identity: string;
  /** The key prefix, e.g. "/inferline/". */
  readonly prefix: string;
  private readonly options: EtcdCoordinatorOptions;
  private readonly clientOptions: IOptions;
  private readonly timing: ElectionTiming;
  private readonly clock: Clock;
  private readonly memberTtlMs: number;
  private readonly requestTimeoutMs: number;
  private readonly onError: (err: unknown) => void;
  private client: Etcd3 | undefined;
  private ns: Namespace | undefined;
  private term: Term | undefined;
  private lastEpoch = 0;
  private leaderWatch: SharedWatch<LeaderSnapshot> | undefined;
  private memberWatch: SharedWatch<readonly MemberInfo[]> | undefined;
  private readonly desiredWatches = new Map<string, SharedWatch<DesiredStateRecord | undefined>>();
  /** The watches the resync loop re-reads. */
  private readonly resyncing = new Set<SharedWatch<unknown>>();
  private readonly registrations = new Set<EtcdRegistration>();
  private readonly subscriptions = new Set<Subscription>();
  /** Aborted on stop; also wakes campaign loops when the leader key changes (replaced each time). */
  private stopping = new AbortController();
  private leaderChanged = new AbortController();

  private constructor(options: EtcdCoordinatorOptions, clientOptions: IOptions) {
    this.options = options;
    this.identity = options.identity;
    this.prefix = options.prefix ?? '/inferline/';
    this.clientOptions = clientOptions;
    this.timing = options.timing ?? DEFAULT_ELECTION_TIMING;
    this.clock = options.clock ?? systemClock;
    this.memberTtlMs = options.memberTtlMs ?? DEFAULT_MEMBER_TTL_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Checks the options and reads the TLS files; connects nothing (start() does). */
  static async create(options: EtcdCoordinatorOptions): Promise<EtcdCoordinator> {
    if (options.identity === '') throw new CoordinatorError('etcd', 'identity must not be empty');
    if (options.endpoints.length === 0) throw new CoordinatorError('etcd', 'no endpoints');
    const prefix = options.prefix ?? '/inferline/';
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new CoordinatorError('etcd', `prefix "${prefix}" must start and end with "/"`);
    return new EtcdCoordinator({ ...options, prefix }, await clientOptionsOf(options));
  }

  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = new AbortController();
    this.client = new Etcd3(this.clientOptions);
    this.ns = this.client.namespace(this.prefix);
    void this.resyncLoop(this.stopping.signal);
  }

  /** One loop for every watch: each period, re-read the value of those with subscribers. */
  private async resyncLoop(signal: AbortSignal): Promise<void> {
    const every = this.options.watchResyncMs ?? Math.max(1000, this.timing.retryPeriodMs);
    while (!signal.aborted) {
      try {
        await this.clock.sleep(every, signal);
      } catch {
        return;
      }
      for (const w of this.resyncing) if (w.feed.size > 0) w.refresh();
    }
  }

  async stop(deadlineMs = 5000): Promise<void> {
    if (!this.client) return;
    this.stopping.abort(new CoordinatorError('etcd', 'the coordinator stopped'));
    const work = (async () => {
      if (this.term) await this.resign(this.term.epoch, 'stopped');
      await Promise.all([...this.registrations].map((r) => r.deregister().catch(() => undefined)));
    })();
    await settleWithin(this.clock, work, deadlineMs);
    this.endTerm('stopped');
    await this.closeWatches(deadlineMs);
    this.client.close();
    this.client = undefined;
    this.ns = undefined;
  }

  /** Closes the connection without resigning or revoking, as a killed process would (tests of expiry). */
  async abandon(): Promise<void> {
    if (!this.client) return;
    this.stopping.abort(new CoordinatorError('etcd', 'the coordinator was abandoned'));
    for (const r of this.registrations) r.abandon();
    this.registrations.clear();
    this.endTerm('stopped');
    await this.closeWatches(1000);
    this.client.close();
    this.client = undefined;
    this.ns = undefined;
  }

  // ------------------------------------------------------------------ membership

  async register(info: MemberInfo, options: RegisterOptions = {}): Promise<Registration> {
    const ns = this.namespace();
    checkMemberInfo('etcd', info);
    const registration = new EtcdRegistration(this, ns, info, ttlSeconds(options.ttlMs ?? this.memberTtlMs));
    await registration.establish();
    this.registrations.add(registration);
    registration.onDone = () => this.registrations.delete(registration);
    return registration;
  }

  async members(): Promise<readonly MemberInfo[]> {
    const ns = this.namespace();
    const values = await this.call('list members', () => ns.getAll().prefix('members/').strings());
    const infos: MemberInfo[] = [];
    for (const [key, text] of Object.entries(values)) {
      const info = parseMemberInfo(text);
      if (info === undefined) this.onError(new CoordinatorError('etcd', `ignoring malformed member record ${key}`));
      else infos.push(info);
    }
    return infos.sort(byAgentId);
  }

  async watchMembers(listener: Listener<readonly MemberInfo[]>): Promise<Subscription> {
    this.namespace();
    this.memberWatch ??= this.sharedWatch((b) => b.prefix('members/'), () => this.members(), jsonEqual);
    return this.subscribe(this.memberWatch, listener, () => this.members());
  }

  // ------------------------------------------------------------------ election

  async campaign(options: CampaignOptions = {}): Promise<Leadership> {
    const ns = this.namespace();
    const signal = AbortSignal.any([this.stopping.signal, ...(options.signal ? [options.signal] : [])]);
    this.ensureLeaderWatch(); // wakes this loop when the leader key goes
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (this.term) return this.term.leadership;
      try {
        const won = await this.tryAcquire(ns);
        if (won) return won;
      } catch (err) {
        this.onError(new CoordinatorError('etcd', 'campaign attempt failed', { cause: err }));
      }
      const woken = this.leaderChanged.signal;
      await this.clock.sleep(this.timing.retryPeriodMs, AbortSignal.any([signal, woken])).catch(() => undefined);
    }
  }

  async leader(): Promise<LeaderSnapshot> {
    return this.readLeader();
  }

  async watchLeader(listener: Listener<LeaderSnapshot>): Promise<Subscription> {
    this.namespace();
    return this.subscribe(this.ensureLeaderWatch(), listener, () => this.readLeader());
  }

  // ------------------------------------------------------------------ desired state

  async readDesired(agentId: string): Promise<DesiredStateRecord | undefined> {
    const ns = this.namespace();
    const res = await this.call(`read the desired state of "${agentId}"`, () => ns.get(desiredKey(agentId)).exec());
    const kv = res.kvs[0];
    if (kv === undefined) return undefined;
    const record = parseDesiredRecord(agentId, kv.value.toString('utf8'), kv.mod_revision);
    if (record === undefined) throw new CoordinatorError('etcd', `malformed desired state at ${desiredKey(agentId)}`);
    return record;
  }

  async writeDesired(agentId: string, spec: JsonValue, epoch: number): Promise<DesiredStateRecord> {
    const ns = this.namespace();
    // A create revision of 0 means "no key": epoch 0 would match a missing leader key.
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new StaleEpochError(agentId, epoch, undefined);
    const body = desiredRecordJson(spec, epoch, this.identity);
    const res = await this.call(`write the desired state of "${agentId}"`, () => ns
      .if(LEADER_KEY, 'Create', '==', epoch)
      .then(ns.put(desiredKey(agentId)).value(body))
      .else(ns.get(LEADER_KEY))
      .commit());
    if (!res.succeeded) {
      const kv = res.responses[0]?.response_range?.kvs[0];
      throw new StaleEpochError(agentId, epoch, kv === undefined ? undefined : Number(kv.create_revision));
    }
    return { agentId, spec: structuredClone(spec), epoch, writtenBy: this.identity, revision: String(res.header.revision) };
  }

  async watchDesired(agentId: string, listener: Listener<DesiredStateRecord | undefined>): Promise<Subscription> {
    this.namespace();
    let watch = this.desiredWatches.get(agentId);
    if (watch === undefined) {
      watch = this.sharedWatch((b) => b.key(desiredKey(agentId)), () => this.readDesired(agentId), jsonEqual);
      this.desiredWatches.set(agentId, watch);
    }
    const owned = watch;
    return this.subscribe(watch, listener, () => this.readDesired(agentId), async () => {
      if (owned.feed.size > 0) return;
      this.desiredWatches.delete(agentId);
      this.resyncing.delete(owned as SharedWatch<unknown>);
      await owned.watcher.cancel().catch(() => undefined);
    });
  }

  // ------------------------------------------------------------------ internals

  /** One attempt: when there is no leader key, create it under a new lease, in one transaction. */
  private async tryAcquire(ns: Namespace): Promise<Leadership | undefined> {
    const won = await createLeaderKey(ns, (what, fn) => this.call(what, fn), this.identity, ttlSeconds(this.timing.leaseDurationMs), this.clock);
    return won === undefined ? undefined : this.beginTerm(won.lease, won.epoch, won.startedAtMs);
  }

  private beginTerm(lease: Lease, epoch: number, startedAtMs: number): Leadership {
    const controller = new AbortController();
    const leadership: Leadership = {
      agentId: this.identity,
      epoch,
      signal: controller.signal,
      resign: () => this.resign(epoch, 'resigned'),
    };
    const term: Term = { epoch, lease, controller, leadership, renewedAtMs: startedAtMs };
    this.term = term;
    this.lastEpoch = Math.max(this.lastEpoch, epoch);
    void this.renewLoop(term);
    void this.watchdog(term);
    return leadership;
  }

  /** Ends the term, then deletes the leader key and revokes the lease so that another candidate takes over at once. */
  private async resign(epoch: number, reason: 'resigned' | 'stopped'): Promise<void> {
    const term = this.term;
    if (term?.epoch !== epoch) return;
    this.endTerm(reason);
    // The term is over whatever happens; a key left behind expires with its lease.
    await this.release(term.lease, epoch).catch((err: unknown) => this.onError(err));
  }

  /** One keep-alive every retry period; a lease etcd says is gone ends the term. */
  private async renewLoop(term: Term): Promise<void> {
    const signal = term.controller.signal;
    while (!signal.aborted) {
      await this.clock.sleep(this.timing.retryPeriodMs, signal).catch(() => undefined);
      if (signal.aborted) return;
      const startedAtMs = this.clock.nowMs();
      try {
        const res = await withTimeout(this.clock, this.timing.retryPeriodMs, 'keep-alive of the leader lease', () => term.lease.keepaliveOnce({ deadline: Date.now() + this.timing.retryPeriodMs }));
        if (Number(res.TTL) <= 0) {
          this.endTerm('expired', term);
          return;
        }
        term.renewedAtMs = startedAtMs;
      } catch (err) {
        if (err instanceof EtcdLeaseInvalidError) {
          this.endTerm('expired', term);
          return;
        }
        this.onError(new CoordinatorError('etcd', `epoch ${term.epoch}: cannot renew the leader lease`, { cause: err }));
      }
    }
  }

  /** Ends the term the moment the renew deadline passes without a renewal. */
  private async watchdog(term: Term): Promise<void> {
    const signal = term.controller.signal;
    while (!signal.aborted) {
      const dueInMs = term.renewedAtMs + this.timing.renewDeadlineMs - this.clock.nowMs();
      if (dueInMs <= 0) {
        this.endTerm('renew-deadline', term);
        return;
      }
      await this.clock.sleep(dueInMs, signal).catch(() => undefined);
    }
  }

  /** Stops the term at once (the leader stops acting before anything else happens). */
  private endTerm(reason: LeaseLostReason, only?: Term): void {
    const term = this.term;
    if (term === undefined || (only !== undefined && term !== only)) return;
    this.term = undefined;
    term.controller.abort(new LeaseLostError(term.epoch, reason));
    if (reason !== 'resigned' && reason !== 'stopped') void this.releaseEventually(term);
  }

  /**
   * After a loss, deletes the leader key (if still this term's) and revokes the lease, retrying
   * while etcd is unreachable, so that the others take over as soon as it is back rather than a
   * TTL later (etcd extends every lease's TTL when it restarts). Gives up after two lease durations.
   */
  private async releaseEventually(term: Term): Promise<void> {
    const until = this.clock.nowMs() + 2 * this.timing.leaseDurationMs;
    while (!this.stopping.signal.aborted && this.clock.nowMs() < until) {
      try {
        await this.release(term.lease, term.epoch);
        return;
      } catch {
        await this.clock.sleep(this.timing.retryPeriodMs, this.stopping.signal).catch(() => undefined);
      }
    }
  }

  /** Deletes the leader key if it is still this term's, then revokes the lease. */
  private async release(lease: Lease, epoch: number): Promise<void> {
    const ns = this.ns;
    if (ns === undefined) return;
    await deleteLeaderKey(ns, (what, fn) => this.call(what, fn), lease, epoch);
  }

  private ensureLeaderWatch(): SharedWatch<LeaderSnapshot> {
    this.leaderWatch ??= this.sharedWatch((b) => b.key(LEADER_KEY), () => this.readLeader(), (a, b) => a.leaderId === b.leaderId && a.epoch === b.epoch, () => {
      this.leaderChanged.abort(); // wakes campaigns
      this.leaderChanged = new AbortController();
    });
    return this.leaderWatch;
  }

  /** Reads the leader key; ends this coordinator's term when the key is gone or was replaced. */
  private async readLeader(): Promise<LeaderSnapshot> {
    const ns = this.namespace();
    const res = await this.call('read the leader key', () => ns.get(LEADER_KEY).exec());
    const snapshot = this.snapshotOf(res.kvs[0]);
    const term = this.term;
    // A read older than the term (started before the key was created) says nothing about it.
    const replaced = snapshot.leaderId === undefined || snapshot.epoch !== term?.epoch;
    if (term !== undefined && Number(res.header.revision) >= term.epoch && replaced) this.endTerm('deleted', term);
    return snapshot;
  }

  private snapshotOf(kv: IKeyValue | undefined): LeaderSnapshot {
    if (kv === undefined) return { leaderId: undefined, epoch: this.lastEpoch };
    const agentId = leaderIdOf(kv);
    if (agentId === undefined) this.onError(new CoordinatorError('etcd', 'malformed leader key'));
    const epoch = Number(kv.create_revision);
    this.lastEpoch = Math.max(this.lastEpoch, epoch);
    return { leaderId: agentId, epoch };
  }

  /** A shared watch of this coordinator's namespace, re-read by the resync loop. */
  private sharedWatch<T>(
    select: (b: ReturnType<Namespace['watch']>) => ReturnType<Namespace['watch']>, read: () => Promise<T>, equals: (a: T, b: T) => boolean, onValue?: (value: T) => void,
  ): SharedWatch<T> {
    const ctx = { ns: this.namespace(), clock: this.clock, onError: this.onError, stopSignal: () => this.stopping.signal };
    const watch = sharedWatch(ctx, select, read, equals, onValue);
    this.resyncing.add(watch as SharedWatch<unknown>);
    return watch;
  }

  private async subscribe<T>(watch: SharedWatch<T>, listener: Listener<T>, read: () => Promise<T>, onClose?: () => Promise<void>): Promise<Subscription> {
    const value = await read();
    watch.feed.publish(value);
    const sub = watch.feed.subscribe(listener, onClose);
    this.subscriptions.add(sub);
    return { close: async () => { this.subscriptions.delete(sub); await sub.close(); } };
  }

  private async closeWatches(deadlineMs: number): Promise<void> {
    const watchers = [this.leaderWatch, this.memberWatch, ...this.desiredWatches.values()].filter((w) => w !== undefined);
    for (const s of [...this.subscriptions]) void s.close();
    this.subscriptions.clear();
    this.leaderWatch = undefined;
    this.memberWatch = undefined;
    this.desiredWatches.clear();
    for (const w of watchers) w.feed.clear();
    this.resyncing.clear();
    await settleWithin(this.clock, Promise.all(watchers.map((w) => w.watcher.cancel().catch(() => undefined))), deadlineMs);
  }

  /** Runs one request; its failures become CoordinatorErrors naming what was being done. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(this.clock, this.requestTimeoutMs, what, () => fn());
    } catch (err) {
      if (err instanceof CoordinatorError || err instanceof StaleEpochError) throw err;
      throw new CoordinatorError('etcd', `cannot ${what}`, { cause: err });
    }
  }

  namespace(): Namespace {
    if (this.ns === undefined) throw new CoordinatorError('etcd', 'the coordinator is not started');
    return this.ns;
  }

  reportError(err: unknown): void {
    this.onError(err);
  }

  get retryPeriodMs(): number {
    return this.timing.retryPeriodMs;
  }

  get clockPort(): Clock {
    return this.clock;
  }

  get stopSignal(): AbortSignal {
    return this.stopping.signal;
  }
}

