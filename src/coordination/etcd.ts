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
import { readFile } from 'node:fs/promises';
import { Etcd3, EtcdLeaseInvalidError, type IOptions, type IKeyValue, type Lease, type Namespace, type Watcher } from 'etcd3';
import { DEFAULT_ELECTION_TIMING, type ElectionTiming } from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import {
  CoordinatorError, LeaseLostError, StaleEpochError, type CampaignOptions, type Coordinator, type DesiredStateRecord, type JsonValue,
  type LeaderSnapshot, type Leadership, type LeaseLostReason, type Listener, type MemberInfo, type RegisterOptions, type Registration,
  type Subscription,
} from '../ports/coordinator.js';
import { systemClock } from '../platform/system-clock.js';
import { Feed, jsonEqual } from './feed.js';
import { byAgentId, checkMemberInfo, DEFAULT_MEMBER_TTL_MS, memberInfoJson, parseMemberInfo } from './member-info.js';
import { desiredRecordJson, parseDesiredRecord } from './desired-record.js';
import { settleWithin, withTimeout } from './util.js';

export interface EtcdTlsFiles {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface EtcdCoordinatorOptions {
  readonly identity: string;
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  readonly endpoints: readonly string[];
  /** Key prefix, starting and ending with "/" (default "/inferline/"). */
  readonly prefix?: string;
  readonly timing?: ElectionTiming;
  readonly memberTtlMs?: number;
  /** Timeout of one unary request (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** PEM files, read by create(). */
  readonly tls?: EtcdTlsFiles;
  readonly clock?: Clock;
  readonly onError?: (err: unknown) => void;
  /**
   * Every watch also re-reads its key this often (informer-style resync), so an event lost while
   * etcd restarted, or while the client's circuit breaker was open, costs at most this long
   * (default: the retry period, at least 1 s).
   */
  readonly watchResyncMs?: number;
}

const LEADER_KEY = 'leader';
const memberKey = (agentId: string): string => `members/${agentId}`;
const desiredKey = (agentId: string): string => `desired/${agentId}`;

interface Term {
  readonly epoch: number;
  readonly lease: Lease;
  readonly controller: AbortController;
  readonly leadership: Leadership;
  renewedAtMs: number;
}

interface SharedWatch<T> {
  readonly feed: Feed<T>;
  readonly watcher: Watcher;
  /** Re-reads the value (what the periodic resync calls). */
  readonly refresh: () => void;
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
    const read = async (file: string | undefined): Promise<Buffer | undefined> => {
      if (file === undefined) return undefined;
      try {
        return await readFile(file);
      } catch (err) {
        throw new CoordinatorError('etcd', `cannot read TLS file ${file}`, { cause: err });
      }
    };
    const tls = options.tls;
    const [ca, cert, key] = [await read(tls?.caFile), await read(tls?.certFile), await read(tls?.keyFile)];
    const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    const clientOptions: IOptions = {
      hosts: [...options.endpoints],
      dialTimeout: requestTimeoutMs,
      // Unary calls get a deadline; streams (watches, keep-alives) must not, or they would end.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      ...(tls === undefined ? {} : {
        credentials: {
          rootCertificate: ca ?? Buffer.alloc(0),
          ...(key === undefined ? {} : { privateKey: key }),
          ...(cert === undefined ? {} : { certChain: cert }),
        },
      }),
    };
    return new EtcdCoordinator({ ...options, prefix }, clientOptions);
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
    const existing = await this.call('read the leader key', () => ns.get(LEADER_KEY).exec());
    if (existing.kvs.length > 0) return undefined;
    const lease = ns.lease(ttlSeconds(this.timing.leaseDurationMs), { autoKeepAlive: false });
    lease.on('lost', () => undefined); // losses are handled by the renew loop below
    try {
      const leaseId = await this.call('grant the leader lease', () => lease.grant());
      const startedAtMs = this.clock.nowMs();
      const res = await this.call('create the leader key', () => ns
        .if(LEADER_KEY, 'Create', '==', 0)
        .then(ns.put(LEADER_KEY).value(JSON.stringify({ agentId: this.identity })).lease(leaseId))
        .commit());
      if (!res.succeeded) {
        await lease.revoke().catch(() => undefined);
        return undefined;
      }
      return this.beginTerm(lease, Number(res.header.revision), startedAtMs);
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      throw err;
    }
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
    await this.call('delete the leader key', () => ns.if(LEADER_KEY, 'Create', '==', epoch).then(ns.delete().key(LEADER_KEY)).commit());
    await this.call('revoke the leader lease', () => lease.revoke()).catch(() => undefined);
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
    let agentId: string | undefined;
    try {
      const parsed = JSON.parse(kv.value.toString('utf8')) as { agentId?: unknown };
      if (typeof parsed.agentId === 'string') agentId = parsed.agentId;
    } catch {
      // reported below
    }
    if (agentId === undefined) this.onError(new CoordinatorError('etcd', 'malformed leader key'));
    const epoch = Number(kv.create_revision);
    this.lastEpoch = Math.max(this.lastEpoch, epoch);
    return { leaderId: agentId, epoch };
  }

  /**
   * One etcd watcher shared by the subscriptions of a key or prefix: any event, and every
   * (re)connection, refreshes the value by reading it, so a missed event costs nothing.
   */
  private sharedWatch<T>(
    select: (b: ReturnType<Namespace['watch']>) => ReturnType<Namespace['watch']>,
    read: () => Promise<T>,
    equals: (a: T, b: T) => boolean,
    onValue?: (value: T) => void,
  ): SharedWatch<T> {
    const feed = new Feed<T>(equals, this.onError);
    const watcher = select(this.namespace().watch()).watcher();
    let refreshing = Promise.resolve();
    let retryScheduled = false;
    // A read that fails (etcd just back, the client's circuit breaker still open) is retried with
    // doubling delays until one succeeds: the event that triggered it may be the only one. One
    // retry chain at a time: a read that fails while a retry is on its way leaves it to that retry
    // (and a resync's failure is not reported again), so an outage does not pile up retries.
    const refresh = (attempt = 0, quiet = false): void => {
      refreshing = refreshing.then(async () => {
        try {
          const value = await read();
          onValue?.(value);
          feed.publish(value);
        } catch (err) {
          if (this.stopping.signal.aborted || feed.size === 0) return;
          if (attempt === 0 && retryScheduled) return;
          if (!quiet) this.onError(err);
          retryScheduled = true;
          const delay = Math.min(5000, 250 * 2 ** attempt);
          void this.clock.sleep(delay, this.stopping.signal).then(() => {
            retryScheduled = false;
            refresh(attempt + 1);
          }, () => undefined);
        }
      });
    };
    watcher.on('put', () => refresh());
    watcher.on('delete', () => refresh());
    watcher.on('connected', () => refresh());

    watcher.on('error', (err) => this.onError(new CoordinatorError('etcd', 'watch failed', { cause: err })));
    watcher.on('disconnected', (err) => this.onError(new CoordinatorError('etcd', 'watch disconnected; reconnecting', { cause: err })));
    const watch: SharedWatch<T> = { feed, watcher, refresh: () => refresh(0, true) };
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

/** A member key kept alive by etcd3's keep-alive; re-created under a new lease if the lease is lost. */
class EtcdRegistration implements Registration {
  readonly agentId: string;
  onDone: (() => void) | undefined;
  private readonly owner: EtcdCoordinator;
  private readonly ns: Namespace;
  private readonly ttlSeconds: number;
  private info: MemberInfo;
  private lease: Lease | undefined;
  private readonly done = new AbortController();

  constructor(owner: EtcdCoordinator, ns: Namespace, info: MemberInfo, ttl: number) {
    this.owner = owner;
    this.ns = ns;
    this.agentId = info.agentId;
    this.info = info;
    this.ttlSeconds = ttl;
  }

  /** Grants a lease and puts the member key under it. */
  async establish(): Promise<void> {
    const lease = this.ns.lease(this.ttlSeconds);
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.done.signal.aborted) return;
      this.owner.reportError(new CoordinatorError('etcd', `member "${this.agentId}": lease lost; registering again`, { cause: err }));
      void this.reestablish();
    });
    try {
      await this.owner.call(`register member "${this.agentId}"`, () => lease.put(memberKey(this.agentId)).value(memberInfoJson(this.info)).exec());
    } catch (err) {
      lease.release();
      throw err;
    }
    this.lease = lease;
  }

  private async reestablish(): Promise<void> {
    const stop = AbortSignal.any([this.done.signal, this.owner.stopSignal]);
    while (!stop.aborted) {
      try {
        await this.establish();
        return;
      } catch (err) {
        this.owner.reportError(err);
        await this.owner.clockPort.sleep(this.owner.retryPeriodMs, stop).catch(() => undefined);
      }
    }
  }

  async update(info: MemberInfo): Promise<void> {
    checkMemberInfo('etcd', info);
    if (info.agentId !== this.agentId) throw new CoordinatorError('etcd', `update() of "${this.agentId}" with agentId "${info.agentId}"`);
    this.info = info;
    const lease = this.lease;
    if (lease === undefined || this.done.signal.aborted) return;
    await this.owner.call(`update member "${this.agentId}"`, () => lease.put(memberKey(this.agentId)).value(memberInfoJson(info)).exec());
  }

  async deregister(): Promise<void> {
    if (this.done.signal.aborted) return;
    this.done.abort();
    this.onDone?.();
    const lease = this.lease;
    if (lease !== undefined) await this.owner.call(`deregister member "${this.agentId}"`, () => lease.revoke());
  }

  /** Stops keep-alives without revoking: the key goes when the TTL runs out. */
  abandon(): void {
    this.done.abort();
    this.lease?.release();
  }
}

/** etcd TTLs are whole seconds, at least 1. */
function ttlSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
