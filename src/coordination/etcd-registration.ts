// An etcd agent's membership (etcd.ts): its member key under a lease of its own that etcd3 keeps
// alive, put again under a new lease if that one is lost, revoked on deregister.
import type { Lease, Namespace } from 'etcd3';
import type { Clock } from '../ports/clock.js';
import { CoordinatorError, type MemberInfo, type Registration } from '../ports/coordinator.js';
import { checkMemberInfo, memberInfoJson } from './member-info.js';
import { memberKey } from './etcd-keys.js';

/** A member key kept alive by etcd3's keep-alive; re-created under a new lease if the lease is lost. */
/** What a member registration needs of its coordinator (EtcdCoordinator). */
export interface EtcdMemberApi {
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  reportError(err: unknown): void;
  readonly retryPeriodMs: number;
  readonly clockPort: Clock;
  readonly stopSignal: AbortSignal;
}

export class EtcdRegistration implements Registration {
  readonly agentId: string;
  onDone: (() => void) | undefined;
  private readonly owner: EtcdMemberApi;
  private readonly ns: Namespace;
  private readonly ttlSeconds: number;
  private info: MemberInfo;
  private lease: Lease | undefined;
  private readonly done = new AbortController();

  constructor(owner: EtcdMemberApi, ns: Namespace, info: MemberInfo, ttl: number) {
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
export function ttlSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
