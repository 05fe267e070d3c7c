// Public surface of the coordination backends, and the factory the composition roots (src/cli)
// use: the `coordination` section of the config → a created (not yet started) Coordinator.
import type { CoordinationConfig } from '../config/types.js';
import type { Clock } from '../ports/clock.js';
import type { Coordinator } from '../ports/coordinator.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { MemoryCoordinator, type MemoryCoordinationHub } from './memory.js';

// Types only: the etcd and Kubernetes clients weigh about 27 MB and 86 MB of RSS once loaded, so
// createCoordinator loads a backend's module only when the config names it. Import the classes
// from ./etcd.js and ./kubernetes.js where they are needed as values.
export type { EtcdCoordinator, EtcdCoordinatorOptions, EtcdTlsFiles } from './etcd.js';
export type { KubernetesCoordinator, KubernetesCoordinatorOptions } from './kubernetes.js';
export { MemoryCoordinationHub, MemoryCoordinator, processMemoryHub, type CoordinationHub, type MemoryCoordinatorOptions } from './memory.js';
export { serveCoordinationHub, type ServedHub } from './hub-server.js';

export interface CoordinatorDeps {
  /** This agent's id. */
  readonly identity: string;
  readonly clock?: Clock;
  /** Errors of background work (renewals, watches, listeners); the work goes on. */
  readonly onError?: (err: unknown) => void;
  /** memory: the hub to join (default: the process-wide one). */
  readonly memoryHub?: MemoryCoordinationHub;
  /** kubernetes: a ready KubeConfig (tests), over the config's kubeconfig file. */
  readonly kubeConfig?: KubeConfig;
}

/** Builds the configured backend; reads files (TLS, kubeconfig) but connects nothing until start(). */
export async function createCoordinator(config: CoordinationConfig, deps: CoordinatorDeps): Promise<Coordinator> {
  const common = {
    identity: deps.identity,
    timing: config.timing,
    memberTtlMs: config.memberTtlMs,
    ...(deps.onError === undefined ? {} : { onError: deps.onError }),
  };
  switch (config.backend) {
    case 'memory': {
      // The memory backend runs on its hub's clock. A hub served by another process (the demo's
      // parent) is reached through a thin client; the client is loaded only then.
      if (config.memory.hubUrl !== undefined && deps.memoryHub === undefined) {
        const { RemoteCoordinationHub } = await import('./hub-client.js');
        return MemoryCoordinator.create({ ...common, hub: new RemoteCoordinationHub(config.memory.hubUrl, deps.clock) });
      }
      return MemoryCoordinator.create({ ...common, ...(deps.memoryHub === undefined ? {} : { hub: deps.memoryHub }) });
    }
    case 'etcd': {
      const { EtcdCoordinator } = await import('./etcd.js');
      return EtcdCoordinator.create({
        ...common,
        endpoints: config.etcd.endpoints,
        prefix: config.etcd.prefix,
        requestTimeoutMs: config.etcd.requestTimeoutMs,
        ...(config.etcd.tls === undefined ? {} : { tls: config.etcd.tls }),
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      });
    }
    case 'kubernetes': {
      const { KubernetesCoordinator } = await import('./kubernetes.js');
      return KubernetesCoordinator.create({
        ...common,
        namespace: config.kubernetes.namespace,
        leaseName: config.kubernetes.leaseName,
        configMapName: config.kubernetes.configMapName,
        memberLeasePrefix: config.kubernetes.memberLeasePrefix,
        ...(config.kubernetes.kubeconfig === undefined ? {} : { kubeconfigFile: config.kubernetes.kubeconfig }),
        ...(deps.kubeConfig === undefined ? {} : { kubeConfig: deps.kubeConfig }),
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      });
    }
  }
}
