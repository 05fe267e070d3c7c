// The WorkloadScale port on the Kubernetes API (@kubernetes/client-node): GET and PATCH of the
// scale subresource (autoscaling/v1 Scale) of a Deployment or StatefulSet, nothing else, so the
// agent's Role needs only get/patch on `deployments/scale` (or `statefulsets/scale`) of the named
// workloads. A patch is a JSON merge patch `{metadata: {resourceVersion}, spec: {replicas}}`: the
// resourceVersion makes the API server refuse it with 409 when the Scale changed since it was
// read. Statuses become typed errors: 403 → ScaleForbiddenError (naming the verb and resource
// RBAC must grant), 409 → ScaleConflictError, anything else → ScaleRequestError.
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Scale } from '@kubernetes/client-node';
import type { Clock } from '../ports/clock.js';
import {
  ScaleConflictError, ScaleForbiddenError, ScaleRequestError, type WorkloadRef, type WorkloadScaleClient, type WorkloadScaleStatus,
} from '../ports/workload-scale.js';
import { systemClock } from '../platform/system-clock.js';
import { withTimeout } from './util.js';
import { apiMessageOf, apiStatusOf } from './kube-api-error.js';

export interface KubernetesScaleClientOptions {
  /** A ready KubeConfig (tests); otherwise `kubeconfigFile`, else in-cluster, else $KUBECONFIG or ~/.kube/config. */
  readonly kubeConfig?: KubeConfig;
  readonly kubeconfigFile?: string;
  /** Timeout of one request (default 5 s). */
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
}

/** The field manager named on every patch (managedFields show who set the replicas). */
export const FIELD_MANAGER = 'inferline';

export class KubernetesScaleClient implements WorkloadScaleClient {
  private readonly apps: AppsV1Api;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  private constructor(kc: KubeConfig, options: KubernetesScaleClientOptions) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.timeoutMs = options.requestTimeoutMs ?? 5000;
    this.clock = options.clock ?? systemClock;
  }

  /** Loads the kubeconfig (reads files; contacts nothing). */
  static create(options: KubernetesScaleClientOptions = {}): KubernetesScaleClient {
    let kc = options.kubeConfig;
    if (kc === undefined) {
      kc = new KubeConfig();
      if (options.kubeconfigFile !== undefined) kc.loadFromFile(options.kubeconfigFile);
      else if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) kc.loadFromCluster();
      else kc.loadFromDefault();
    }
    return new KubernetesScaleClient(kc, options);
  }

  async read(ref: WorkloadRef): Promise<WorkloadScaleStatus> {
    const { name, namespace } = ref;
    const scale = await this.call(ref, 'get', () => (ref.kind === 'Deployment'
      ? this.apps.readNamespacedDeploymentScale({ name, namespace })
      : this.apps.readNamespacedStatefulSetScale({ name, namespace })));
    return statusOf(ref, scale);
  }

  async patch(ref: WorkloadRef, replicas: number, resourceVersion: string): Promise<WorkloadScaleStatus> {
    const { name, namespace } = ref;
    const body = { metadata: { resourceVersion }, spec: { replicas } };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const scale = await this.call(ref, 'patch', () => (ref.kind === 'Deployment'
      ? this.apps.patchNamespacedDeploymentScale({ name, namespace, body, fieldManager: FIELD_MANAGER }, options)
      : this.apps.patchNamespacedStatefulSetScale({ name, namespace, body, fieldManager: FIELD_MANAGER }, options)));
    return statusOf(ref, scale);
  }

  private async call(ref: WorkloadRef, verb: 'get' | 'patch', fn: () => Promise<V1Scale>): Promise<V1Scale> {
    try {
      return await withTimeout(this.clock, this.timeoutMs, `${verb} scale of ${ref.namespace}/${ref.name}`, () => fn());
    } catch (err) {
      const status = apiStatusOf(err);
      const detail = apiMessageOf(err);
      if (status === 403) throw new ScaleForbiddenError(verb, ref, detail, { cause: err });
      if (status === 409) throw new ScaleConflictError(ref, detail, { cause: err });
      throw new ScaleRequestError(ref, verb, status, detail, { cause: err });
    }
  }
}

function statusOf(ref: WorkloadRef, scale: V1Scale): WorkloadScaleStatus {
  const replicas = scale.spec?.replicas ?? 0;
  const resourceVersion = scale.metadata?.resourceVersion;
  if (resourceVersion === undefined || !Number.isInteger(replicas) || replicas < 0) {
    throw new ScaleRequestError(ref, 'read', undefined, 'the API server returned a Scale without metadata.resourceVersion or with a bad spec.replicas');
  }
  return { replicas, currentReplicas: scale.status?.replicas ?? 0, resourceVersion };
}
