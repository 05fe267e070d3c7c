// Kubernetes objects ⇄ the coordinator's records, pure (tested on recorded bodies): the leader
// Lease (coordination.k8s.io/v1) ⇄ a LockSnapshot, member Leases ⇄ MemberInfo, and the desired
// state ConfigMap (v1) ⇄ records plus the fencing epoch annotation. Lease times are MicroTime
// (RFC 3339 with microseconds); leaseDurationSeconds is whole seconds.
import { createHash } from 'node:crypto';
import type { LeaseRecord, LockSnapshot } from '../core/fleet/election.js';
import type { DesiredStateRecord, JsonValue, MemberInfo } from '../ports/coordinator.js';
import { memberInfoJson, parseMemberInfo } from './member-info.js';
import { parseConfigMapRecord } from './desired-record.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'inferline' } as const;
/** On every member Lease; its value is the leader Lease's name, so fleets sharing a namespace do not mix. */
export const MEMBER_OF_LABEL = 'inferline.io/member-of';
export const MEMBER_INFO_ANNOTATION = 'inferline.io/member';
/** On the desired-state ConfigMap: the highest epoch that has written (or fenced) it. */
export const FENCING_EPOCH_ANNOTATION = 'inferline.io/fencing-epoch';

/** The parts of a Lease this module reads (client-node's V1Lease is structurally wider). */
export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: Date | string;
    renewTime?: Date | string;
    leaseTransitions?: number;
  };
}

export interface ConfigMapObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** Milliseconds of a MicroTime as client-node hands it over (a string; a Date when typed). */
export function microTimeMs(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A MicroTime as the API server writes it: 2026-11-29T04:20:11.532000Z. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The leader election record of a Lease; undefined when it has none (a Lease created empty). */
export function leaseSnapshot(lease: LeaseObject): LockSnapshot | undefined {
  const spec = lease.spec;
  const version = lease.metadata?.resourceVersion;
  if (spec === undefined || version === undefined) return undefined;
  const record: LeaseRecord = {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationMs: Math.max(0, (spec.leaseDurationSeconds ?? 0) * 1000),
    acquireTimeMs: microTimeMs(spec.acquireTime) ?? 0,
    renewTimeMs: microTimeMs(spec.renewTime) ?? 0,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
  return { record, version };
}

/** A Lease body carrying `record`; with `resourceVersion` it is a compare-and-swap update. */
export function leaseBody(name: string, namespace: string, record: LeaseRecord, resourceVersion?: string): LeaseObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, labels: { ...MANAGED_BY }, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: leaseSeconds(record.leaseDurationMs),
      acquireTime: formatMicroTime(record.acquireTimeMs),
      renewTime: formatMicroTime(record.renewTimeMs),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

/** Lease durations are whole seconds, at least 1; rounding up keeps other candidates away longer, never shorter. */
export function leaseSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * A DNS-1123 name for an agent id: lowercase letters, digits and "-"; ids that had to change get
 * a hash suffix so two ids never share a name.
 */
export function kubeSafeName(prefix: string, agentId: string, maxLength = 253): string {
  const cleaned = agentId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const exact = cleaned === agentId && cleaned !== '';
  const hash = createHash('sha256').update(agentId).digest('hex').slice(0, 8);
  const body = exact ? cleaned : `${cleaned === '' ? 'agent' : cleaned}-${hash}`;
  const name = `${prefix}${body}`;
  return name.length <= maxLength ? name : `${name.slice(0, maxLength - 9)}-${hash}`;
}

/** A ConfigMap data key for an agent id ([-._a-zA-Z0-9]+). */
export function configMapKey(agentId: string): string {
  if (/^[-._a-zA-Z0-9]{1,200}$/.test(agentId) && agentId !== '.' && agentId !== '..') return agentId;
  const hash = createHash('sha256').update(agentId).digest('hex').slice(0, 8);
  return `${agentId.replace(/[^-._a-zA-Z0-9]+/g, '_').slice(0, 180)}.${hash}`;
}

export function memberLease(name: string, namespace: string, group: string, info: MemberInfo, ttlMs: number, nowMs: number, acquiredMs: number, resourceVersion?: string): LeaseObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name, namespace,
      labels: { ...MANAGED_BY, [MEMBER_OF_LABEL]: group },
      annotations: { [MEMBER_INFO_ANNOTATION]: memberInfoJson(info) },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    spec: {
      holderIdentity: info.agentId,
      leaseDurationSeconds: leaseSeconds(ttlMs),
      acquireTime: formatMicroTime(acquiredMs),
      renewTime: formatMicroTime(nowMs),
    },
  };
}

/** The member a Lease describes, with how long it lives unrenewed; undefined when it is not a member Lease. */
export function memberOf(lease: LeaseObject): { info: MemberInfo; ttlMs: number; version: string } | undefined {
  const text = lease.metadata?.annotations?.[MEMBER_INFO_ANNOTATION];
  const version = lease.metadata?.resourceVersion;
  if (text === undefined || version === undefined) return undefined;
  const info = parseMemberInfo(text);
  if (info === undefined) return undefined;
  return { info, ttlMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000, version };
}

/** The fencing epoch a ConfigMap carries (0 when none). */
export function fencingEpoch(cm: ConfigMapObject | undefined): number {
  const text = cm?.metadata?.annotations?.[FENCING_EPOCH_ANNOTATION];
  const n = text === undefined ? 0 : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** The desired-state record of `agentId` in a ConfigMap; undefined when absent or malformed. */
export function desiredFromConfigMap(cm: ConfigMapObject | undefined, agentId: string): DesiredStateRecord | undefined {
  const text = cm?.data?.[configMapKey(agentId)];
  return text === undefined ? undefined : parseConfigMapRecord(agentId, text);
}

/**
 * The ConfigMap after a fenced write of `agentId`'s record (or, with `record` undefined, after
 * only raising the fencing epoch). Each record carries its own revision counter, so a write for
 * one agent does not look like a change to the others.
 */
export function withDesired(cm: ConfigMapObject | undefined, name: string, namespace: string, epoch: number, write?: { agentId: string; spec: JsonValue; writtenBy: string }): ConfigMapObject {
  const data = { ...(cm?.data ?? {}) };
  if (write !== undefined) {
    const previous = desiredFromConfigMap(cm, write.agentId);
    const revision = previous === undefined ? 1 : Number(previous.revision) + 1;
    data[configMapKey(write.agentId)] = JSON.stringify({ agentId: write.agentId, spec: write.spec, epoch, writtenBy: write.writtenBy, revision });
  }
  const resourceVersion = cm?.metadata?.resourceVersion;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name, namespace,
      labels: { ...(cm?.metadata?.labels ?? {}), ...MANAGED_BY },
      annotations: { ...(cm?.metadata?.annotations ?? {}), [FENCING_EPOCH_ANNOTATION]: String(Math.max(epoch, fencingEpoch(cm))) },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    data,
  };
}
