// A thin client of a MemoryCoordinationHub that another process serves on loopback
// (hub-server.ts): the same CoordinationHub a MemoryCoordinator uses in one process, one HTTP
// request per operation, and a long-poll for the hub's events. The coordinator's behaviour is the
// memory backend's; only the hub lives elsewhere (`coordination.memory.hubUrl`).
import axios, { type AxiosInstance } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import type { LeaseRecord, LockSnapshot } from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import { CoordinatorError, StaleEpochError, type DesiredStateRecord, type JsonValue, type MemberInfo } from '../ports/coordinator.js';
import { systemClock } from '../platform/system-clock.js';
import { HUB_EVENTS_PATH, HUB_OPS_PATH, type HubEventsReply, type HubOp } from './hub-server.js';
import { LockConflictError, type LeaseLock } from './lease-lock.js';
import type { CoordinationHub, HubEvent } from './memory.js';

const REQUEST_TIMEOUT_MS = 5_000;
/** Longer than the server's long-poll, so that the server ends it. */
const EVENTS_TIMEOUT_MS = 15_000;

export class RemoteCoordinationHub implements CoordinationHub {
  readonly clock: Clock;
  readonly url: string;
  private readonly http: AxiosInstance;
  private readonly listeners = new Set<(e: HubEvent) => void>();
  private readonly owners = new WeakMap<object, string>();
  private ownerCount = 0;
  private polling: AbortController | undefined;

  constructor(url: string, clock: Clock = systemClock) {
    this.url = url.replace(/\/$/, '');
    this.clock = clock;
    this.http = axios.create({ baseURL: this.url, timeout: REQUEST_TIMEOUT_MS, httpAgent: new HttpAgent({ keepAlive: true }), validateStatus: () => true, proxy: false });
  }

  lock(name: string): LeaseLock {
    return {
      description: `memory lease "${name}" at ${this.url}`,
      get: async (signal) => ((await this.call({ op: 'lock.get', name }, signal)) as LockSnapshot | null) ?? undefined,
      create: async (record: LeaseRecord, signal) => (await this.call({ op: 'lock.create', name, record }, signal)) as LockSnapshot,
      update: async (record: LeaseRecord, version, signal) => (await this.call({ op: 'lock.update', name, record, version }, signal)) as LockSnapshot,
    };
  }

  async putMember(info: MemberInfo, ttlMs: number, owner: object): Promise<void> {
    await this.call({ op: 'member.put', info: { ...info, models: [...info.models] }, ttlMs, owner: this.ownerToken(owner) });
  }

  async renewMember(agentId: string, owner: object): Promise<boolean> {
    return (await this.call({ op: 'member.renew', agentId, owner: this.ownerToken(owner) })) === true;
  }

  async removeMember(agentId: string, owner: object): Promise<void> {
    await this.call({ op: 'member.remove', agentId, owner: this.ownerToken(owner) });
  }

  async liveMembers(): Promise<MemberInfo[]> {
    return (await this.call({ op: 'member.list' })) as MemberInfo[];
  }

  async readDesired(agentId: string): Promise<DesiredStateRecord | undefined> {
    return ((await this.call({ op: 'desired.read', agentId })) as DesiredStateRecord | null) ?? undefined;
  }

  async writeDesired(lockName: string, agentId: string, spec: JsonValue, epoch: number, writtenBy: string): Promise<DesiredStateRecord> {
    return (await this.call({ op: 'desired.write', lockName, agentId, spec, epoch, writtenBy })) as DesiredStateRecord;
  }

  subscribe(listener: (e: HubEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.polling === undefined) {
      this.polling = new AbortController();
      void this.poll(this.polling.signal);
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.polling?.abort();
        this.polling = undefined;
      }
    };
  }

  /** Long-polls the hub's events while anyone listens; after a failure, tells everything changed. */
  private async poll(signal: AbortSignal): Promise<void> {
    let after = -1;
    let lost = false;
    while (!signal.aborted) {
      try {
        const res = await this.http.get<HubEventsReply>(HUB_EVENTS_PATH, { params: { after }, signal, timeout: EVENTS_TIMEOUT_MS });
        if (res.status !== 200) throw new CoordinatorError('memory', `watch the hub at ${this.url}: HTTP ${res.status}`);
        const reply = res.data;
        const events: HubEvent[] = [...reply.events];
        if (reply.reset !== undefined || lost) {
          events.push({ kind: 'members' }, ...(reply.reset?.desiredIds ?? []).map((agentId) => ({ kind: 'desired' as const, agentId })));
        }
        lost = false;
        after = reply.seq;
        for (const e of events) for (const l of [...this.listeners]) l(e);
      } catch {
        if (signal.aborted) return;
        lost = true;
        await this.clock.sleep(200, signal).catch(() => undefined);
      }
    }
  }

  private ownerToken(owner: object): string {
    let t = this.owners.get(owner);
    if (t === undefined) {
      t = `${process.pid}-${++this.ownerCount}-${Math.floor(this.clock.nowMs())}`;
      this.owners.set(owner, t);
    }
    return t;
  }

  private async call(op: HubOp, signal?: AbortSignal): Promise<unknown> {
    let res;
    try {
      res = await this.http.post<{ value?: unknown; error?: string; message?: string; currentEpoch?: number | null }>(HUB_OPS_PATH, op, signal ? { signal } : {});
    } catch (err) {
      throw new CoordinatorError('memory', `${op.op} at the hub ${this.url}`, { cause: err });
    }
    const body = res.data;
    if (res.status === 200) return body.value ?? null;
    if (res.status === 409 && body.error === 'conflict') throw new LockConflictError(body.message ?? 'conflict');
    if (res.status === 409 && body.error === 'stale-epoch' && op.op === 'desired.write') {
      throw new StaleEpochError(op.agentId, op.epoch, body.currentEpoch ?? undefined);
    }
    throw new CoordinatorError('memory', `${op.op} at the hub ${this.url}: HTTP ${res.status} ${body.error ?? ''}`.trim());
  }
}
