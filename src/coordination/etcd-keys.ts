// The etcd backend's keys under its prefix (etcd.ts says what each holds), and the leader key's
// transactions: the election lock, created only where there is none, deleted only by its term.
import { z } from 'zod';
import type { IKeyValue, Lease, Namespace } from 'etcd3';
import type { Clock } from '../ports/clock.js';

export const LEADER_KEY = 'leader';
export const memberKey = (agentId: string): string => `members/${agentId}`;
export const desiredKey = (agentId: string): string => `desired/${agentId}`;

/** Runs one request, naming what it does (EtcdCoordinator.call). */
export type EtcdCall = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

/**
 * One attempt: when there is no leader key, create it under a new lease, in one transaction.
 * Returns the lease, the epoch (the key's create revision) and when the lease was granted.
 */
export async function createLeaderKey(
  ns: Namespace, call: EtcdCall, identity: string, ttlSeconds: number, clock: Clock,
): Promise<{ lease: Lease; epoch: number; startedAtMs: number } | undefined> {
  const existing = await call('read the leader key', () => ns.get(LEADER_KEY).exec());
  if (existing.kvs.length > 0) return undefined;
  const lease = ns.lease(ttlSeconds, { autoKeepAlive: false });
  lease.on('lost', () => undefined); // losses are handled by the coordinator's renew loop
  try {
    const leaseId = await call('grant the leader lease', () => lease.grant());
    const startedAtMs = clock.nowMs();
    const res = await call('create the leader key', () => ns
      .if(LEADER_KEY, 'Create', '==', 0)
      .then(ns.put(LEADER_KEY).value(JSON.stringify({ agentId: identity })).lease(leaseId))
      .commit());
    if (!res.succeeded) {
      await lease.revoke().catch(() => undefined);
      return undefined;
    }
    return { lease, epoch: Number(res.header.revision), startedAtMs };
  } catch (err) {
    await lease.revoke().catch(() => undefined);
    throw err;
  }
}

/** Deletes the leader key if it is still the term's of `epoch`, then revokes the lease. */
export async function deleteLeaderKey(ns: Namespace, call: EtcdCall, lease: Lease, epoch: number): Promise<void> {
  await call('delete the leader key', () => ns.if(LEADER_KEY, 'Create', '==', epoch).then(ns.delete().key(LEADER_KEY)).commit());
  await call('revoke the leader lease', () => lease.revoke()).catch(() => undefined);
}

/** The leader key's value: the holder's agent id. */
const leaderValue = z.object({ agentId: z.string() });

/** The leader's agent id in the leader key, or undefined when the value is malformed. */
export function leaderIdOf(kv: IKeyValue): string | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(kv.value.toString('utf8'));
  } catch {
    return undefined; // reported by the caller
  }
  const parsed = leaderValue.safeParse(raw);
  return parsed.success ? parsed.data.agentId : undefined;
}
