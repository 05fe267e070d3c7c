// What the schemas cannot say about our manifests: the native-sidecar rule, least-privilege RBAC,
// and the environment the kubelet gives the sidecar (to validate the config with it).
import type { KubeObject } from './k8s.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  restartPolicy?: string;
  workingDir?: string;
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: unknown;
  startupProbe?: unknown;
}

export interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name?: string }; emptyDir?: object }[];
}

/**
 * The native-sidecar rule (Kubernetes 1.29+): inferline is an initContainers entry with
 * restartPolicy Always (a plain init container would have to exit before the server starts), not
 * a main container, with a liveness probe on /healthz and no readiness probe (the server must stay
 * Ready while its agent restarts).
 */
export function nativeSidecarProblems(spec: PodSpec): string[] {
  const problems: string[] = [];
  const sidecar = (spec.initContainers ?? []).find((c) => c.name === 'inferline');
  if (spec.containers.some((c) => c.name === 'inferline')) problems.push('containers[inferline] — must be an initContainers entry (a native sidecar), not a main container');
  if (sidecar === undefined) return [...problems, 'no initContainers entry named inferline'];
  if (sidecar.restartPolicy !== 'Always') {
    problems.push(`initContainers[inferline].restartPolicy is ${sidecar.restartPolicy === undefined ? 'undefined' : `"${sidecar.restartPolicy}"`} — must be Always (a native sidecar, Kubernetes 1.29+)`);
  }
  if (sidecar.livenessProbe?.httpGet?.path !== '/healthz') problems.push('initContainers[inferline].livenessProbe — must be an httpGet of /healthz');
  if (sidecar.readinessProbe !== undefined) problems.push('initContainers[inferline].readinessProbe — must be absent: it would take the server out of its Service while the agent restarts');
  if (sidecar.startupProbe !== undefined) problems.push('initContainers[inferline].startupProbe — must be absent: it would hold the server container back');
  return problems;
}

/** Exactly these verbs, on exactly these resources: what src/coordination/kubernetes calls. */
const LEAST_PRIVILEGE: readonly { group: string; resource: string; verbs: readonly string[] }[] = [
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['create', 'delete', 'get', 'list', 'update'] },
  { group: '', resource: 'configmaps', verbs: ['create', 'get', 'update'] },
];

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }

export function rbacProblems(role: KubeObject): string[] {
  const problems: string[] = [];
  const granted = new Map<string, Set<string>>();
  for (const rule of (role.rules ?? []) as Rule[]) {
    if (rule.nonResourceURLs !== undefined) problems.push('nonResourceURLs — must not be granted');
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        const verbs = granted.get(key) ?? new Set<string>();
        for (const verb of rule.verbs ?? []) verbs.add(verb);
        granted.set(key, verbs);
      }
    }
  }
  for (const want of LEAST_PRIVILEGE) {
    const key = `${want.group}/${want.resource}`;
    const verbs = [...(granted.get(key) ?? [])].sort();
    if (verbs.join(',') !== [...want.verbs].sort().join(',')) {
      problems.push(`${want.resource} (${want.group === '' ? 'core' : want.group}): verbs ${verbs.join(', ') || 'none'} — must be exactly ${want.verbs.join(', ')}`);
    }
    granted.delete(key);
  }
  for (const [key, verbs] of granted) problems.push(`${key}: ${[...verbs].join(', ')} — must not be granted`);
  return problems;
}

/** The pod-level values the kubelet would fill in. */
export interface PodFacts {
  readonly podName: string;
  readonly namespace: string;
  readonly podIp: string;
  /** `secretName/key` → value. */
  readonly secrets: Readonly<Record<string, string>>;
}

/** The sidecar's environment as the kubelet builds it: fieldRefs, secretKeyRefs, then $(VAR) expansion. */
export function sidecarEnv(container: Container, pod: PodFacts): NodeJS.ProcessEnv {
  const fields: Record<string, string> = { 'metadata.name': pod.podName, 'metadata.namespace': pod.namespace, 'status.podIP': pod.podIp };
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    let value: string | undefined;
    if (v.valueFrom?.fieldRef !== undefined) value = fields[v.valueFrom.fieldRef.fieldPath];
    else if (v.valueFrom?.secretKeyRef !== undefined) value = pod.secrets[`${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`];
    // $(NAME) refers to a variable defined earlier in the list; an unknown one stays as written.
    else value = (v.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
    if (value === undefined) throw new Error(`env ${v.name}: the test knows no value for ${JSON.stringify(v.valueFrom)}`);
    env[v.name] = value;
  }
  return env;
}
