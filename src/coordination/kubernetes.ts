// The Kubernetes backend (@kubernetes/client-node), for fleets running in a cluster:
// - leader election: a coordination.k8s.io/v1 Lease driven by client-go's rules (core/fleet/election.ts,
//   lease-elector.ts), compare-and-swap on the Lease's resourceVersion; epoch = leaseTransitions + 1;
// - membership: one Lease per agent (`<memberLeasePrefix><agentId>`, labelled with the leader
//   Lease's name), renewed every TTL/3; a member is live while its Lease keeps changing, judged on
//   this process's clock like the leader Lease;
// - desired state: one ConfigMap, a data key per agent, and an annotation holding the fencing
//   epoch. A write reads the leader Lease (its epoch must be the writer's) and the ConfigMap (its
//   fencing epoch must not be newer), then replaces the ConfigMap with resourceVersion set, so a
//   concurrent change makes it fail with 409 and start over. A new leader raises the fencing epoch
//   before campaign() resolves, so once it has been elected no write of an older epoch can land.
// Watches poll (every retry period): this backend uses GET, PUT, POST and DELETE only.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1ConfigMap, type V1Lease } from '@kubernetes/client-node';
import { DEFAULT_ELECTION_TIMING, epochOf, type ElectionTiming, type LeaseRecord, type LockSnapshot } from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import {
  CoordinatorError, StaleEpochError, type Coordinator, type DesiredStateRecord, type JsonValue, type Listener, type MemberInfo, type RegisterOptions, type Registration, type Subscription,
} from '../ports/coordinator.js';
import { systemClock } from '../platform/system-clock.js';
import { ElectedCoordinator } from './elected-coordinator.js';
import { WatchSet } from './watch-set.js';
import { LeaseElector } from './lease-elector.js';
import { LockConflictError, type LeaseLock } from './lease-lock.js';
import { byAgentId, checkMemberInfo, DEFAULT_MEMBER_TTL_MS } from './member-info.js';
import {
  desiredFromConfigMap, fencingEpoch, kubeSafeName, leaseBody, leaseSnapshot, MEMBER_OF_LABEL, memberLease, memberOf, withDesired,
  type ConfigMapObject, type LeaseObject,
} from './kubernetes-objects.js';
import { settleWithin, withTimeout } from './util.js';
import { apiMessageOf, apiStatusOf } from './kube-api-error.js';
import { KubeRegistration, WRITE_ATTEMPTS } from './kubernetes-member-lease.js';

export interface KubernetesCoordinatorOptions {
  readonly identity: string;
  readonly namespace?: string;
  readonly leaseName?: string;
  readonly configMapName?: string;
  readonly memberLeasePrefix?: string;
  readonly timing?: ElectionTiming;
  readonly memberTtlMs?: number;
  /** Timeout of one API request (default: the retry period, at least 1 s). */
  readonly requestTimeoutMs?: number;
  /** A ready KubeConfig (tests); otherwise `kubeconfigFile`, else in-cluster, else $KUBECONFIG or ~/.kube/config. */
  readonly kubeConfig?: KubeConfig;
  readonly kubeconfigFile?: string;
  readonly clock?: Clock;
  readonly onError?: (err: unknown) => void;
}

export class KubernetesCoordinator extends ElectedCoordinator implements Coordinator {
  readonly backend = 'kubernetes' as const;
  readonly identity: string;
  readonly namespace: string;
  readonly leaseName: string;
  readonly configMapName: string;
  private readonly memberLeasePrefix: string;
  private readonly timing: ElectionTiming;
  private readonly memberTtlMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly onError: (err: unknown) => void;
  private readonly leases: CoordinationV1Api;
  private readonly core: CoreV1Api;
  protected readonly elector: LeaseElector;
  /** Member Lease name → its resourceVersion and when this process saw it change. */
  private readonly memberSeen = new Map<string, { version: string; seenAtMs: number }>();
  private readonly registrations = new Set<KubeRegistration>();
  protected readonly watches: WatchSet;
  private polling: AbortController | undefined;
  private started = false;

  private constructor(options: KubernetesCoordinatorOptions, kc: KubeConfig) {
    super();
    this.identity = options.identity;
    this.namespace = options.namespace ?? 'default';
    this.leaseName = options.leaseName ?? 'inferline-leader';
    this.configMapName = options.configMapName ?? 'inferline-desired-state';
    this.memberLeasePrefix = options.memberLeasePrefix ?? 'inferline-member-';
    this.timing = options.timing ?? DEFAULT_ELECTION_TIMING;
    this.memberTtlMs = options.memberTtlMs ?? DEFAULT_MEMBER_TTL_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? Math.max(1000, this.timing.retryPeriodMs);
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError ?? (() => undefined);
    this.leases = kc.makeApiClient(CoordinationV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.watches = new WatchSet(this.onError);
    this.elector = new LeaseElector({
      backend: 'kubernetes', identity: this.identity, lock: this.leaderLock(), timing: this.timing, clock: this.clock, onError: this.onError,
      onAcquired: (epoch) => this.fence(epoch),
    });
  }

  /** Loads the kubeconfig (reads files; contacts nothing). */
  static async create(options: KubernetesCoordinatorOptions): Promise<KubernetesCoordinator> {
    if (options.identity === '') throw new CoordinatorError('kubernetes', 'identity must not be empty');
    let kc = options.kubeConfig;
    if (kc === undefined) {
      kc = new KubeConfig();
      try {
        if (options.kubeconfigFile !== undefined) kc.loadFromFile(options.kubeconfigFile);
        else if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) kc.loadFromCluster();
        else {
          // With nothing to load, the client falls back to http://localhost:8080 and fails later
          // with a TLS message that says nothing about the missing cluster.
          const home = path.join(os.homedir(), '.kube', 'config');
          if (!process.env['KUBECONFIG'] && !existsSync(home)) {
            throw new CoordinatorError('kubernetes', `no cluster to use: no $KUBECONFIG, no ${home}, and not running in a pod — set coordination.kubernetes.kubeconfig, or use the memory or etcd backend`);
          }
          kc.loadFromDefault();
        }
      } catch (err) {
        if (err instanceof CoordinatorError) throw err;
        const where = `cannot load the kubeconfig${options.kubeconfigFile === undefined ? '' : ` ${options.kubeconfigFile}`}`;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new CoordinatorError('kubernetes', `${where}: no such file — check coordination.kubernetes.kubeconfig`);
        if (code === 'EACCES' || code === 'EPERM') throw new CoordinatorError('kubernetes', `${where}: permission denied`);
        if (code === 'EISDIR') throw new CoordinatorError('kubernetes', `${where}: is a directory, not a kubeconfig`);
        throw new CoordinatorError('kubernetes', where, { cause: err });
      }
    }
    return new KubernetesCoordinator(options, kc);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.elector.start();
    this.polling = new AbortController();
    void this.poll(this.polling.signal);
  }

  async stop(deadlineMs = 5000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await settleWithin(this.clock, this.elector.stop(deadlineMs), deadlineMs);
    await settleWithin(this.clock, Promise.all([...this.registrations].map((r) => r.deregister().catch(() => undefined))), deadlineMs);
    this.closeWatches();
  }

  /** Stops without resigning or deregistering, as a killed process would (tests of expiry). */
  async abandon(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const r of this.registrations) r.abandon();
    this.registrations.clear();
    this.elector.abandon();
    this.closeWatches();
  }

  // ------------------------------------------------------------------ membership

  async register(info: MemberInfo, options: RegisterOptions = {}): Promise<Registration> {
    this.ensureStarted();
    checkMemberInfo('kubernetes', info);
    const registration = new KubeRegistration(this, info, options.ttlMs ?? this.memberTtlMs);
    await registration.establish();
    this.registrations.add(registration);
    registration.onDone = () => this.registrations.delete(registration);
    return registration;
  }

  async members(): Promise<readonly MemberInfo[]> {
    this.ensureStarted();
    const list = await this.request('list member Leases', () => this.leases.listNamespacedLease({
      namespace: this.namespace, labelSelector: `${MEMBER_OF_LABEL}=${this.leaseName}`,
    }));
    const now = this.clock.nowMs();
    const live: MemberInfo[] = [];
    const names = new Set<string>();
    for (const lease of list.items as LeaseObject[]) {
      const name = lease.metadata?.name ?? '';
      const member = memberOf(lease);
      if (member === undefined) continue;
      names.add(name);
      // Judged on this process's clock: live while the Lease keeps changing.
      let seen = this.memberSeen.get(name);
      if (seen?.version !== member.version) {
        seen = { version: member.version, seenAtMs: now };
        this.memberSeen.set(name, seen);
      }
      if (seen.seenAtMs + member.ttlMs > now) live.push(member.info);
    }
    for (const name of this.memberSeen.keys()) if (!names.has(name)) this.memberSeen.delete(name);
    return live.sort(byAgentId);
  }

  async watchMembers(listener: Listener<readonly MemberInfo[]>): Promise<Subscription> {
    return this.watches.watchMembers(await this.members(), listener);
  }

  // (election: ElectedCoordinator)

  // ------------------------------------------------------------------ desired state

  async readDesired(agentId: string): Promise<DesiredStateRecord | undefined> {
    this.ensureStarted();
    return desiredFromConfigMap(await this.readConfigMap(), agentId);
  }

  async writeDesired(agentId: string, spec: JsonValue, epoch: number): Promise<DesiredStateRecord> {
    this.ensureStarted();
    for (let attempt = 1; ; attempt++) {
      const lease = await this.request(`read Lease ${this.namespace}/${this.leaseName}`, () => this.readLease(this.leaseName));
      const held = lease === undefined ? undefined : leaseSnapshot(lease);
      const current = held === undefined || held.record.holderIdentity === '' ? undefined : epochOf(held.record);
      if (current !== epoch) throw new StaleEpochError(agentId, epoch, current);
      const cm = await this.readConfigMap();
      const fenced = fencingEpoch(cm);
      if (fenced > epoch) throw new StaleEpochError(agentId, epoch, fenced);
      const body = withDesired(cm, this.configMapName, this.namespace, epoch, { agentId, spec, writtenBy: this.identity });
      try {
        await this.writeConfigMap(body, cm === undefined);
        const record = desiredFromConfigMap(body, agentId);
        if (record === undefined) throw new CoordinatorError('kubernetes', `cannot encode the desired state of "${agentId}"`);
        return record;
      } catch (err) {
        if (!(err instanceof LockConflictError)) throw err;
        if (attempt >= WRITE_ATTEMPTS) throw new CoordinatorError('kubernetes', `desired state of "${agentId}": ${WRITE_ATTEMPTS} conflicting writes in a row`, { cause: err });
      }
    }
  }

  async watchDesired(agentId: string, listener: Listener<DesiredStateRecord | undefined>): Promise<Subscription> {
    this.ensureStarted();
    return this.watches.watchDesired(agentId, () => this.readDesired(agentId), listener);
  }

  // ------------------------------------------------------------------ internals

  /** Raises the ConfigMap's fencing epoch to `epoch` (runs before a new leader's campaign() resolves). */
  private async fence(epoch: number): Promise<void> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const cm = await this.readConfigMap();
      if (fencingEpoch(cm) >= epoch) return;
      try {
        await this.writeConfigMap(withDesired(cm, this.configMapName, this.namespace, epoch), cm === undefined);
        return;
      } catch (err) {
        if (!(err instanceof LockConflictError)) throw err;
      }
    }
    throw new CoordinatorError('kubernetes', `fencing epoch ${epoch}: ${WRITE_ATTEMPTS} conflicting writes in a row`);
  }

  private leaderLock(): LeaseLock {
    const description = `Lease ${this.namespace}/${this.leaseName}`;
    const snapshot = (lease: LeaseObject): LockSnapshot => {
      const s = leaseSnapshot(lease);
      if (s === undefined) throw new CoordinatorError('kubernetes', `${description}: the API server returned a Lease without spec or resourceVersion`);
      return s;
    };
    return {
      description,
      get: async () => {
        const lease = await this.readLease(this.leaseName);
        return lease === undefined ? undefined : leaseSnapshot(lease);
      },
      create: async (record: LeaseRecord) => {
        // If the Lease was deleted, epochs must not start over: go on from the fencing epoch.
        const fenced = fencingEpoch(await this.readConfigMap());
        const body = leaseBody(this.leaseName, this.namespace, { ...record, leaseTransitions: Math.max(record.leaseTransitions, fenced) });
        return snapshot(await this.conflictAware(() => this.leases.createNamespacedLease({ namespace: this.namespace, body: body as V1Lease })));
      },
      update: async (record: LeaseRecord, version: string) => {
        const body = leaseBody(this.leaseName, this.namespace, record, version);
        return snapshot(await this.replaceLease(body));
      },
    };
  }

  /** A Lease, or undefined on 404. */
  async readLease(name: string): Promise<LeaseObject | undefined> {
    try {
      return await this.leases.readNamespacedLease({ name, namespace: this.namespace }) as LeaseObject;
    } catch (err) {
      if (apiStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async createLease(body: LeaseObject): Promise<LeaseObject> {
    return await this.conflictAware(() => this.leases.createNamespacedLease({ namespace: this.namespace, body: body as V1Lease })) as LeaseObject;
  }

  async replaceLease(body: LeaseObject): Promise<LeaseObject> {
    const name = body.metadata?.name ?? '';
    return await this.conflictAware(() => this.leases.replaceNamespacedLease({ name, namespace: this.namespace, body: body as V1Lease }), true) as LeaseObject;
  }

  async deleteLease(name: string): Promise<void> {
    try {
      await this.leases.deleteNamespacedLease({ name, namespace: this.namespace });
    } catch (err) {
      if (apiStatusOf(err) !== 404) throw err;
    }
  }

  private async readConfigMap(): Promise<ConfigMapObject | undefined> {
    return this.request(`read ConfigMap ${this.namespace}/${this.configMapName}`, async () => {
      try {
        return await this.core.readNamespacedConfigMap({ name: this.configMapName, namespace: this.namespace }) as ConfigMapObject;
      } catch (err) {
        if (apiStatusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  /** PUT with the resourceVersion the body carries, or POST when there is none yet; 409 → LockConflictError. */
  private async writeConfigMap(body: ConfigMapObject, create: boolean): Promise<void> {
    const send = (): Promise<V1ConfigMap> => (create
      ? this.core.createNamespacedConfigMap({ namespace: this.namespace, body: body as V1ConfigMap })
      : this.core.replaceNamespacedConfigMap({ name: this.configMapName, namespace: this.namespace, body: body as V1ConfigMap }));
    await this.request(`write ConfigMap ${this.namespace}/${this.configMapName}`, () => this.conflictAware(send, !create));
  }

  /** 409 (and, for a replace, 404: the object is gone) → LockConflictError: read again and retry. */
  private async conflictAware<T>(fn: () => Promise<T>, replace = false): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const status = apiStatusOf(err);
      if (status === 409 || (replace && status === 404)) throw new LockConflictError(`${status}: ${apiMessageOf(err, 200)}`);
      throw err;
    }
  }

  /** One API request with a timeout; failures other than conflicts become CoordinatorErrors. */
  async request<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(this.clock, this.requestTimeoutMs, what, () => fn());
    } catch (err) {
      if (err instanceof LockConflictError || err instanceof CoordinatorError || err instanceof StaleEpochError) throw err;
      const status = apiStatusOf(err);
      throw new CoordinatorError('kubernetes', `cannot ${what}${status === undefined ? '' : ` (HTTP ${status}: ${apiMessageOf(err, 200)})`}`, { cause: err });
    }
  }

  /** Polls for the member and desired-state watches, every retry period while anyone watches. */
  private async poll(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      await this.clock.sleep(this.timing.retryPeriodMs, stop).catch(() => undefined);
      if (stop.aborted) return;
      try {
        const { memberFeed, desiredFeeds } = this.watches;
        if (memberFeed.size > 0) memberFeed.publish(await this.members());
        if (desiredFeeds.size > 0) {
          const cm = await this.readConfigMap();
          for (const [agentId, feed] of desiredFeeds) feed.publish(desiredFromConfigMap(cm, agentId));
        }
      } catch (err) {
        this.onError(err);
      }
    }
  }

  memberLeaseName(agentId: string): string {
    return kubeSafeName(this.memberLeasePrefix, agentId);
  }

  memberLeaseBody(info: MemberInfo, ttlMs: number, acquiredMs: number, resourceVersion?: string): LeaseObject {
    return memberLease(this.memberLeaseName(info.agentId), this.namespace, this.leaseName, info, ttlMs, this.clock.nowMs(), acquiredMs, resourceVersion);
  }

  get clockPort(): Clock {
    return this.clock;
  }

  reportError(err: unknown): void {
    this.onError(err);
  }

  private closeWatches(): void {
    this.polling?.abort();
    this.polling = undefined;
    this.watches.close();
  }

  protected ensureStarted(): void {
    if (!this.started) throw new CoordinatorError('kubernetes', 'the coordinator is not started');
  }
}
