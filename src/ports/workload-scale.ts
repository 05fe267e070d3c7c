// The WorkloadScale port: the replicas of a Kubernetes workload (Deployment or StatefulSet)
// through its scale subresource (autoscaling/v1 Scale), which is all the Deployment scaler needs
// and all its RBAC grants: get and patch on `deployments/scale` / `statefulsets/scale` of named
// workloads. The implementation is src/coordination/kubernetes-scale.ts; tests use a fake API server.

export type WorkloadKind = 'Deployment' | 'StatefulSet';

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
}

/** A workload's Scale as the API server returns it. */
export interface WorkloadScaleStatus {
  /** spec.replicas: the pods asked for. */
  readonly replicas: number;
  /** status.replicas: the pods there are. */
  readonly currentReplicas: number;
  /** metadata.resourceVersion, for an optimistic-concurrency patch. */
  readonly resourceVersion: string;
}

export interface WorkloadScaleClient {
  /** GET …/{name}/scale. */
  read(ref: WorkloadRef): Promise<WorkloadScaleStatus>;
  /**
   * PATCH …/{name}/scale with a JSON merge patch of spec.replicas carrying `resourceVersion`, so
   * that a change made since the read (an HPA, a person) makes it fail with ScaleConflictError.
   */
  patch(ref: WorkloadRef, replicas: number, resourceVersion: string): Promise<WorkloadScaleStatus>;
}

/** `deployments/scale` or `statefulsets/scale`, as RBAC names it. */
export function scaleResourceOf(kind: WorkloadKind): string {
  return kind === 'Deployment' ? 'deployments/scale' : 'statefulsets/scale';
}

export function describeWorkload(ref: WorkloadRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** 403: the service account may not `verb` the workload's scale subresource (RBAC). */
export class ScaleForbiddenError extends Error {
  override readonly name = 'ScaleForbiddenError';
  readonly verb: 'get' | 'patch';
  readonly resource: string;
  readonly workload: WorkloadRef;

  constructor(verb: 'get' | 'patch', workload: WorkloadRef, detail: string, options?: { cause?: unknown }) {
    const resource = scaleResourceOf(workload.kind);
    super(`forbidden to ${verb} ${resource} of ${describeWorkload(workload)}: the agent's service account needs a Role granting "${verb}" on "${resource}" `
      + `(apiGroups ["apps"], resourceNames ["${workload.name}"]) in namespace ${workload.namespace}${detail ? ` — API server: ${detail}` : ''}`, options);
    this.verb = verb;
    this.resource = resource;
    this.workload = workload;
  }
}

/** 409: the workload's Scale changed since it was read; read again and decide again. */
export class ScaleConflictError extends Error {
  override readonly name = 'ScaleConflictError';
  readonly workload: WorkloadRef;

  constructor(workload: WorkloadRef, detail: string, options?: { cause?: unknown }) {
    super(`${describeWorkload(workload)}: the Scale changed since it was read (409${detail ? `: ${detail}` : ''})`, options);
    this.workload = workload;
  }
}

/** Any other failure: 404 (no such workload), 422, 5xx, a timeout, a connection refused. */
export class ScaleRequestError extends Error {
  override readonly name = 'ScaleRequestError';
  readonly workload: WorkloadRef;
  /** The HTTP status, when a response came. */
  readonly status: number | undefined;

  constructor(workload: WorkloadRef, what: string, status: number | undefined, detail: string, options?: { cause?: unknown }) {
    super(`cannot ${what} ${scaleResourceOf(workload.kind)} of ${describeWorkload(workload)}${status === undefined ? '' : ` (HTTP ${status})`}${detail ? `: ${detail}` : ''}`, options);
    this.workload = workload;
    this.status = status;
  }
}
