// Offline validation of the Kubernetes manifests under deploy/kubernetes: kustomize rendering
// (kubectl kustomize), the schemas of kubernetes-models (types, required fields, apiVersion) for the
// API versions a Kubernetes 1.29+ cluster serves, and an unknown-field walk over the type maps of
// @kubernetes/client-node (kubernetes-models' schemas accept any extra key, so a typo such as
// `restartpolicy` would pass them). Nothing here talks to a cluster.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import * as kube from '@kubernetes/client-node';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const KUBE_DIR = path.join(REPO_ROOT, 'deploy/kubernetes');
export const OVERLAYS = ['triton', 'torchserve', 'tfserving'] as const;
export type ServerKind = (typeof OVERLAYS)[number];

/** A Kubernetes object as parsed from YAML. */
export interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

interface Validatable { validate(): void }
type ModelClass = new (data: never) => Validatable;

/**
 * The objects the manifests may hold, by `apiVersion kind`, each with its kubernetes-models class
 * and, where @kubernetes/client-node has one, the type whose fields are known. Only versions that
 * Kubernetes 1.29+ serves: apps/v1beta1, policy/v1beta1 and the like are errors.
 */
const SERVED: Record<string, { model: ModelClass; fields?: string }> = {
  'v1 ServiceAccount': { model: ServiceAccount as ModelClass, fields: 'V1ServiceAccount' },
  'v1 ConfigMap': { model: ConfigMap as ModelClass, fields: 'V1ConfigMap' },
  'v1 Secret': { model: Secret as ModelClass, fields: 'V1Secret' },
  'v1 Service': { model: Service as ModelClass, fields: 'V1Service' },
  'apps/v1 Deployment': { model: Deployment as ModelClass, fields: 'V1Deployment' },
  'rbac.authorization.k8s.io/v1 Role': { model: Role as ModelClass, fields: 'V1Role' },
  'rbac.authorization.k8s.io/v1 RoleBinding': { model: RoleBinding as ModelClass, fields: 'V1RoleBinding' },
  'policy/v1 PodDisruptionBudget': { model: PodDisruptionBudget as ModelClass, fields: 'V1PodDisruptionBudget' },
  'coordination.k8s.io/v1 Lease': { model: Lease as ModelClass, fields: 'V1Lease' },
  'autoscaling/v2 HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler as ModelClass, fields: 'V2HorizontalPodAutoscaler' },
  // KEDA's CRD (@kubernetes-models/keda); no client-node type: its fields are checked by hand in the tests.
  'keda.sh/v1alpha1 ScaledObject': { model: ScaledObject as ModelClass },
  // No client-node type: its fields are checked by hand in the tests.
  'monitoring.coreos.com/v1 ServiceMonitor': { model: ServiceMonitor as ModelClass },
};

/** `apiVersion kind` of an object, for messages and the table above. */
export function typeOf(obj: KubeObject): string {
  return `${String(obj.apiVersion)} ${String(obj.kind)}`;
}

export function nameOf(obj: KubeObject): string {
  return `${typeOf(obj)} ${obj.metadata?.name ?? '(no name)'}`;
}

/** Every document of a multi-document YAML text, empty ones left out. */
export function parseDocuments(text: string, source: string): KubeObject[] {
  return yaml.loadAll(text, null, { filename: source }).filter((d): d is KubeObject => d !== null && d !== undefined);
}

/**
 * What is wrong with one object: an API version or kind no Kubernetes 1.29+ serves, a schema
 * violation, or a field the API does not have. `patch` skips the schema (a strategic-merge patch
 * is a partial object, so required fields are absent) but still checks field names.
 */
export function validateObject(obj: KubeObject, options: { patch?: boolean } = {}): string[] {
  const entry = SERVED[typeOf(obj)];
  if (entry === undefined) {
    return [`${nameOf(obj)}: apiVersion/kind not served by Kubernetes 1.29+ (served here: ${Object.keys(SERVED).join(', ')})`];
  }
  const problems: string[] = [];
  if (options.patch !== true) {
    try {
      new entry.model(structuredClone(obj) as never).validate();
    } catch (err) {
      problems.push(`${nameOf(obj)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (entry.fields !== undefined) {
    for (const field of unknownFields(obj, entry.fields, '')) problems.push(`${nameOf(obj)}: unknown field ${field}`);
  }
  return problems;
}

interface AttributeType { readonly name: string; readonly baseName: string; readonly type: string }
interface Typed { getAttributeTypeMap(): readonly AttributeType[] }

function modelType(name: string): Typed | undefined {
  const candidate = (kube as Record<string, unknown>)[name];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate ? candidate as unknown as Typed : undefined;
}

/** Paths of keys that the client-node type `typeName` (and its nested types) does not declare. */
function unknownFields(value: unknown, typeName: string, at: string): string[] {
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array !== null) {
    return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, array[1] as string, `${at}[${i}]`)) : [];
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map !== null) {
    return isRecord(value) ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1] as string, `${at}.${k}`)) : [];
  }
  const type = modelType(typeName);
  if (type === undefined || !isRecord(value)) return []; // a scalar, IntOrString, a free-form object
  const attributes = new Map(type.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, child]) => {
    const childType = attributes.get(key);
    const where = at === '' ? key : `${at}.${key}`;
    return childType === undefined ? [where] : unknownFields(child, childType, where);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** Why `kubectl kustomize` cannot be used here, or undefined when it can. */
export function kustomizeUnavailable(): string | undefined {
  const probe = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${KUBECTL} not found (${probe.error.message}); the rendered overlays cannot be checked`;
  if (probe.status !== 0) return `${KUBECTL} version --client failed: ${probe.stderr.trim()}`;
  return undefined;
}

const renderCache = new Map<string, KubeObject[]>();

/** Renders a kustomization offline; throws with kubectl's message when the kustomization is broken. */
export function kustomize(dir: string): KubeObject[] {
  const cached = renderCache.get(dir);
  if (cached !== undefined) return structuredClone(cached);
  const run = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`kubectl kustomize ${path.relative(REPO_ROOT, dir)} failed: ${run.stderr.trim()}`);
  const objects = parseDocuments(run.stdout, `kubectl kustomize ${dir}`);
  renderCache.set(dir, objects);
  return structuredClone(objects);
}
