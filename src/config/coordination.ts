// The coordination section after the schema: the election timing rule of client-go
// (leaseDuration > renewDeadline > 1.2 × retryPeriod), endpoints that one etcd client can use
// together, and TLS and kubeconfig paths resolved against the config file's folder.
import path from 'node:path';
import { electionTimingProblems } from '../core/fleet/election.js';
import type { Problem } from '../core/model/errors.js';
import type { ParsedConfigFile } from './schema.js';
import type { CoordinationConfig } from './types.js';

export function resolveCoordination(file: ParsedConfigFile['coordination'], source: string): { config: CoordinationConfig; problems: Problem[] } {
  const timing = { leaseDurationMs: file.leaseDuration, renewDeadlineMs: file.renewDeadline, retryPeriodMs: file.retryPeriod };
  const problems: Problem[] = electionTimingProblems(timing, 'coordination');
  const relative = (p: string): string => path.resolve(path.dirname(source), p);
  const { etcd, kubernetes } = file;
  if (file.backend === 'etcd') {
    const schemes = new Set(etcd.endpoints.map((e) => new URL(e).protocol));
    if (schemes.size > 1) {
      problems.push({ path: 'coordination.etcd.endpoints', message: `${JSON.stringify(etcd.endpoints)} — must all be http:// or all https:// (one client, one transport)` });
    } else if (etcd.tls !== undefined && schemes.has('http:')) {
      problems.push({ path: 'coordination.etcd.endpoints', message: `${JSON.stringify(etcd.endpoints)} — must be https:// when coordination.etcd.tls is set` });
    }
    if (etcd.tls !== undefined && (etcd.tls.cert === undefined) !== (etcd.tls.key === undefined)) {
      problems.push({ path: `coordination.etcd.tls.${etcd.tls.cert === undefined ? 'cert' : 'key'}`, message: 'missing — cert and key go together (mutual TLS)' });
    }
  }
  const tls = etcd.tls === undefined ? undefined : {
    ...(etcd.tls.ca === undefined ? {} : { caFile: relative(etcd.tls.ca) }),
    ...(etcd.tls.cert === undefined ? {} : { certFile: relative(etcd.tls.cert) }),
    ...(etcd.tls.key === undefined ? {} : { keyFile: relative(etcd.tls.key) }),
  };
  return {
    problems,
    config: {
      backend: file.backend,
      timing,
      memberTtlMs: file.memberTtl,
      memory: file.memory.hubUrl === undefined ? {} : { hubUrl: file.memory.hubUrl },
      etcd: { endpoints: etcd.endpoints, prefix: etcd.prefix, requestTimeoutMs: etcd.requestTimeout, ...(tls === undefined ? {} : { tls }) },
      kubernetes: {
        namespace: kubernetes.namespace,
        leaseName: kubernetes.leaseName,
        configMapName: kubernetes.configMapName,
        memberLeasePrefix: kubernetes.memberLeasePrefix,
        ...(kubernetes.kubeconfig === undefined ? {} : { kubeconfig: relative(kubernetes.kubeconfig) }),
      },
    },
  };
}
