// A Kubernetes agent's membership (kubernetes.ts): its member Lease, created on register, renewed
// every TTL/3 by replacing it with its resourceVersion, re-created if deleted, deleted on deregister.
import { CoordinatorError, type MemberInfo, type Registration } from '../ports/coordinator.js';
import { LockConflictError } from './lease-lock.js';
import { checkMemberInfo } from './member-info.js';
import type { Clock } from '../ports/clock.js';
import type { LeaseObject } from './kubernetes-objects.js';

/** How many times a write starts over after a 409 before giving up. */
export const WRITE_ATTEMPTS = 8;

/** A member Lease renewed every TTL/3 (replace with its resourceVersion; re-created if deleted). */
/** What a member Lease needs of its coordinator (KubernetesCoordinator): its Lease requests, names and clock. */
export interface MemberLeaseApi {
  request<T>(what: string, fn: () => Promise<T>): Promise<T>;
  readLease(name: string): Promise<LeaseObject | undefined>;
  createLease(body: LeaseObject): Promise<LeaseObject>;
  replaceLease(body: LeaseObject): Promise<LeaseObject>;
  deleteLease(name: string): Promise<void>;
  memberLeaseName(agentId: string): string;
  memberLeaseBody(info: MemberInfo, ttlMs: number, acquiredMs: number, resourceVersion?: string): LeaseObject;
  readonly clockPort: Clock;
  reportError(err: unknown): void;
}

export class KubeRegistration implements Registration {
  readonly agentId: string;
  onDone: (() => void) | undefined;
  private readonly owner: MemberLeaseApi;
  private readonly ttlMs: number;
  private readonly name: string;
  private info: MemberInfo;
  private version: string | undefined;
  private acquiredMs: number;
  private readonly done = new AbortController();

  constructor(owner: MemberLeaseApi, info: MemberInfo, ttlMs: number) {
    this.owner = owner;
    this.agentId = info.agentId;
    this.info = info;
    this.ttlMs = ttlMs;
    this.name = owner.memberLeaseName(info.agentId);
    this.acquiredMs = owner.clockPort.nowMs();
  }

  async establish(): Promise<void> {
    await this.write();
    void this.renewLoop();
  }

  /** Creates the Lease, or takes over an existing one (a restarted agent), or renews it. */
  private async write(): Promise<void> {
    const o = this.owner;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      try {
        const written = this.version === undefined
          ? await o.request(`create member Lease ${this.name}`, () => o.createLease(o.memberLeaseBody(this.info, this.ttlMs, this.acquiredMs)))
          : await o.request(`renew member Lease ${this.name}`, () => o.replaceLease(o.memberLeaseBody(this.info, this.ttlMs, this.acquiredMs, this.version)));
        this.version = written.metadata?.resourceVersion;
        return;
      } catch (err) {
        if (!(err instanceof LockConflictError)) throw err;
        // Exists (create) or changed (replace): take the current version; gone (404): create.
        const current = await o.request(`read member Lease ${this.name}`, () => o.readLease(this.name));
        this.version = current?.metadata?.resourceVersion;
      }
    }
    throw new CoordinatorError('kubernetes', `member Lease ${this.name}: ${WRITE_ATTEMPTS} conflicting writes in a row`);
  }

  private async renewLoop(): Promise<void> {
    const signal = this.done.signal;
    while (!signal.aborted) {
      await this.owner.clockPort.sleep(this.ttlMs / 3, signal).catch(() => undefined);
      if (signal.aborted) return;
      await this.write().catch((err: unknown) => this.owner.reportError(err));
    }
  }

  async update(info: MemberInfo): Promise<void> {
    checkMemberInfo('kubernetes', info);
    if (info.agentId !== this.agentId) throw new CoordinatorError('kubernetes', `update() of "${this.agentId}" with agentId "${info.agentId}"`);
    this.info = info;
    if (!this.done.signal.aborted) await this.write();
  }

  async deregister(): Promise<void> {
    if (this.done.signal.aborted) return;
    this.done.abort();
    this.onDone?.();
    await this.owner.request(`delete member Lease ${this.name}`, () => this.owner.deleteLease(this.name));
  }

  abandon(): void {
    this.done.abort();
  }
}
