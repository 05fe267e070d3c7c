// The Kubernetes scaling overlays (deploy/kubernetes/overlays/triton-{keda,hpa,scale}) rendered by
// `kubectl kustomize` and validated offline like the others (KEDA's ScaledObject through
// @kubernetes-models/keda, the HPA through kubernetes-models autoscaling/v2), and tied to the
// inferline config they embed: the ScaledObject's trigger names a configured stage and dials the
// scaler's Service and port; the HPA selects the workload gauge under the name Prometheus shows;
// the scale path's Role grants get/patch on the named workloads' scale subresource and nothing else.
import path from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../src/config/index.js';
import type { InferlineConfig, WorkloadConfig } from '../../src/config/index.js';
import { METRICS, prometheusSeriesNames } from '../../src/telemetry/names.js';
import { KUBE_DIR, kustomize, kustomizeUnavailable, nameOf, validateObject, type KubeObject } from './k8s.js';
import { rbacProblems, sidecarEnv, type Container, type PodSpec } from './rules.js';

const NS = 'triton';
const POD = { podName: 'triton-7d9c8b6f5-x2x9q', namespace: NS, podIp: '10.12.0.7', secrets: { 'inferline-agent-token/token': 'a-test-token-of-32-characters-00' } };

const render = (overlay: string): KubeObject[] => kustomize(path.join(KUBE_DIR, 'overlays', overlay));
const all = (objects: KubeObject[], kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);
function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = all(objects, kind).filter((o) => name === undefined || o.metadata?.name === name);
  expect(found, `one ${kind} ${name ?? ''}`).to.have.length(1);
  return found[0] as KubeObject;
}
const podSpec = (d: KubeObject): PodSpec => (d.spec as { template: { spec: PodSpec } }).template.spec;
const sidecarOf = (d: KubeObject): Container => podSpec(d).initContainers?.find((c) => c.name === 'inferline') as Container;

/** The inferline config the overlay embeds, as the sidecar in a pod would load it. */
function embeddedConfig(objects: KubeObject[]): InferlineConfig {
  const text = (one(objects, 'ConfigMap', 'inferline-config').data as Record<string, string>)['config.yaml'] as string;
  return parseConfig(text, 'config.yaml', sidecarEnv(sidecarOf(one(objects, 'Deployment')), POD));
}

interface Rule { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs?: string[] }

/** What is wrong with the scale Role for these workloads: anything beyond get/patch on their scale subresource. */
export function scaleRbacProblems(role: KubeObject, workloads: readonly WorkloadConfig[]): string[] {
  const problems: string[] = [];
  const want = new Map<string, Set<string>>();
  for (const w of workloads) {
    const resource = w.kind === 'Deployment' ? 'deployments/scale' : 'statefulsets/scale';
    want.set(resource, (want.get(resource) ?? new Set()).add(w.name));
  }
  const granted = new Map<string, Set<string>>();
  for (const rule of (role.rules ?? []) as Rule[]) {
    if (JSON.stringify(rule.apiGroups) !== '["apps"]') problems.push(`apiGroups ${JSON.stringify(rule.apiGroups)} — must be ["apps"]`);
    if (JSON.stringify([...(rule.verbs ?? [])].sort()) !== '["get","patch"]') problems.push(`verbs ${JSON.stringify(rule.verbs)} — must be exactly get and patch`);
    if (rule.resourceNames === undefined || rule.resourceNames.length === 0) problems.push(`${JSON.stringify(rule.resources)} without resourceNames — must name the workloads`);
    for (const r of rule.resources ?? []) {
      if (!want.has(r)) problems.push(`resource ${r} — must be the scale subresource of a configured workload`);
      const names = granted.get(r) ?? new Set<string>();
      for (const n of rule.resourceNames ?? []) names.add(n);
      granted.set(r, names);
    }
  }
  for (const [resource, names] of want) {
    const got = [...(granted.get(resource) ?? [])].sort();
    if (JSON.stringify(got) !== JSON.stringify([...names].sort())) problems.push(`${resource} resourceNames ${JSON.stringify(got)} — must be ${JSON.stringify([...names].sort())}`);
  }
  return problems;
}

describe('deploy/kubernetes: the scaling overlays', function () {
  const unavailable = kustomizeUnavailable();
  before(function () {
    if (unavailable !== undefined) {
      console.log(`      skipped: ${unavailable}`);
      this.skip();
    }
  });

  for (const overlay of ['triton-keda', 'triton-hpa', 'triton-scale']) {
    it(`${overlay}: renders, every object validates, one namespace, the Deployment's replicas left to the scaler`, () => {
      const objects = render(overlay);
      for (const obj of objects) expect(validateObject(obj), nameOf(obj)).to.deep.equal([]);
      expect([...new Set(objects.map((o) => o.metadata?.namespace))]).to.deep.equal([NS]);
      const deployment = one(objects, 'Deployment', 'triton');
      expect(deployment.spec as object, 'no fixed spec.replicas for an apply to reset').to.not.have.property('replicas');
      expect(rbacProblems(one(objects, 'Role', 'inferline-agent')), 'the coordination Role is unchanged').to.deep.equal([]);
      const config = embeddedConfig(objects);
      expect(config.placement.workloads.map((w) => [w.kind, w.namespace, w.name])).to.deep.equal([['Deployment', NS, 'triton']]);
      const hw = config.hardware.find((h) => h.name === config.agent?.hardware);
      expect(config.placement.workloads[0]?.replicasPerPod, 'replicasPerPod is what one pod hosts').to.equal(hw?.capacity);
    });
  }

  it('triton-keda: a ScaledObject per stage Deployment, external-push to the scaler Service, naming a configured stage', () => {
    const objects = render('triton-keda');
    const config = embeddedConfig(objects);
    expect(config.placement.externalScaler).to.deep.equal({ enabled: true, host: '0.0.0.0', port: 8471 });
    const so = one(objects, 'ScaledObject', 'triton');
    const spec = so.spec as {
      scaleTargetRef: { apiVersion?: string; kind?: string; name: string }; minReplicaCount: number; maxReplicaCount: number;
      advanced?: { horizontalPodAutoscalerConfig?: { behavior?: { scaleUp?: unknown; scaleDown?: unknown } } };
      triggers: { type: string; metadata: Record<string, string> }[];
    };
    // Fields by hand (the CRD schema accepts unknown keys).
    expect(Object.keys(spec).sort()).to.deep.equal(['advanced', 'cooldownPeriod', 'maxReplicaCount', 'minReplicaCount', 'pollingInterval', 'scaleTargetRef', 'triggers']);
    expect(spec.scaleTargetRef).to.deep.equal({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'triton' });
    const workload = config.placement.workloads[0] as WorkloadConfig;
    expect([spec.minReplicaCount, spec.maxReplicaCount]).to.deep.equal([workload.minReplicas, workload.maxReplicas]);
    expect(spec.advanced?.horizontalPodAutoscalerConfig?.behavior).to.have.keys(['scaleUp', 'scaleDown']);
    expect(spec.triggers).to.have.length(1);
    const trigger = spec.triggers[0] as { type: string; metadata: Record<string, string> };
    expect(trigger.type).to.equal('external-push');
    const stage = config.pipelines.find((p) => p.name === trigger.metadata['pipeline'])?.stages.find((s) => s.name === trigger.metadata['stage']);
    expect(stage, 'the trigger names a configured stage').to.not.equal(undefined);
    expect([workload.pipeline, workload.stage]).to.deep.equal([trigger.metadata['pipeline'], trigger.metadata['stage']]);
    expect(Number(trigger.metadata['replicasPerPod'])).to.equal(workload.replicasPerPod);
    // scalerAddress → the Service → the sidecar's port → the port the config listens on.
    const [host, port] = (trigger.metadata['scalerAddress'] as string).split(':') as [string, string];
    const service = one(objects, 'Service', 'inferline-scaler');
    expect(host).to.equal(`inferline-scaler.${NS}.svc.cluster.local`);
    const sp = (service.spec as { selector: Record<string, string>; ports: { port: number; targetPort: string }[]; clusterIP?: string }).ports[0];
    expect(sp?.port).to.equal(Number(port));
    const deployment = one(objects, 'Deployment', 'triton');
    const labels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    for (const [k, v] of Object.entries((service.spec as { selector: Record<string, string> }).selector)) expect(labels[k], `selector ${k}`).to.equal(v);
    const containerPort = sidecarOf(deployment).ports?.find((p) => p.name === sp?.targetPort)?.containerPort;
    expect(containerPort, `sidecar port ${String(sp?.targetPort)}`).to.equal(config.placement.externalScaler.port);
    expect((service.spec as { clusterIP?: string }).clusterIP, 'one address for KEDA, not headless').to.not.equal('None');
  });

  it('triton-hpa: an HPA with behavior on the workload gauge, under the name Prometheus exposes', () => {
    const objects = render('triton-hpa');
    const config = embeddedConfig(objects);
    const workload = config.placement.workloads[0] as WorkloadConfig;
    const hpa = one(objects, 'HorizontalPodAutoscaler', 'triton');
    const spec = hpa.spec as {
      scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number;
      metrics: { type: string; external: { metric: { name: string; selector: { matchLabels: Record<string, string> } }; target: { type: string; averageValue: string } } }[];
      behavior: { scaleUp: { policies: unknown[] }; scaleDown: { stabilizationWindowSeconds: number; policies: unknown[] } };
    };
    expect(spec.scaleTargetRef).to.include({ kind: 'Deployment', name: workload.name });
    expect([spec.minReplicas, spec.maxReplicas]).to.deep.equal([workload.minReplicas, workload.maxReplicas]);
    expect(spec.metrics).to.have.length(1);
    const m = spec.metrics[0];
    expect(m?.type).to.equal('External');
    expect(m?.external.metric.name).to.equal(prometheusSeriesNames(METRICS.workloadReplicasDesired)[0]);
    expect(m?.external.metric.selector.matchLabels).to.deep.equal({ pipeline: workload.pipeline, stage: workload.stage, workload: workload.name });
    for (const v of Object.values(m?.external.metric.selector.matchLabels ?? {})) expect(v, 'a valid label value').to.match(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(m?.external.target).to.deep.equal({ type: 'AverageValue', averageValue: String(workload.replicasPerPod) });
    expect(spec.behavior.scaleUp.policies.length).to.be.above(0);
    expect(spec.behavior.scaleDown.stabilizationWindowSeconds).to.be.above(0);
    expect(METRICS.workloadReplicasDesired.attributes).to.include.members(Object.keys(m?.external.metric.selector.matchLabels ?? {}));
  });

  it('triton-scale: least-privilege RBAC — get and patch on deployments/scale of the named workload, nothing else', () => {
    const objects = render('triton-scale');
    const config = embeddedConfig(objects);
    expect(config.placement.backend).to.equal('kubernetes-scale');
    const role = one(objects, 'Role', 'inferline-scale');
    expect(scaleRbacProblems(role, config.placement.workloads)).to.deep.equal([]);
    const binding = one(objects, 'RoleBinding', 'inferline-scale');
    expect(binding.roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'inferline-scale' });
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'inferline-agent', namespace: NS }]);
    expect(all(objects, 'ClusterRole').concat(all(objects, 'ClusterRoleBinding'))).to.deep.equal([]);
  });

  it('the scale RBAC check catches a Role that grants too much or too little (it can fail)', () => {
    const objects = render('triton-scale');
    const workloads = embeddedConfig(objects).placement.workloads;
    const role = one(objects, 'Role', 'inferline-scale');
    const mutate = (f: (r: Rule) => void): KubeObject => {
      const copy = structuredClone(role);
      f((copy.rules as Rule[])[0] as Rule);
      return copy;
    };
    expect(scaleRbacProblems(mutate((r) => { r.resources = ['deployments']; }), workloads).join()).to.include('resource deployments');
    expect(scaleRbacProblems(mutate((r) => { r.verbs = ['get', 'patch', 'update']; }), workloads).join()).to.include('must be exactly get and patch');
    expect(scaleRbacProblems(mutate((r) => { delete r.resourceNames; }), workloads).join()).to.include('without resourceNames');
    expect(scaleRbacProblems(mutate((r) => { r.resourceNames = ['other']; }), workloads).join()).to.include('must be ["triton"]');
  });

  it('the schemas catch a broken ScaledObject and HPA (they can fail)', () => {
    const so = structuredClone(one(render('triton-keda'), 'ScaledObject', 'triton'));
    delete (so.spec as { scaleTargetRef?: unknown }).scaleTargetRef;
    expect(validateObject(so).join()).to.include('scaleTargetRef');
    const triggers = structuredClone(one(render('triton-keda'), 'ScaledObject', 'triton'));
    (triggers.spec as { triggers: unknown }).triggers = 'external-push';
    expect(validateObject(triggers)).to.not.deep.equal([]);
    const hpa = structuredClone(one(render('triton-hpa'), 'HorizontalPodAutoscaler', 'triton'));
    (hpa.spec as { behaviour?: unknown }).behaviour = (hpa.spec as { behavior: unknown }).behavior;
    expect(validateObject(hpa).join()).to.include('unknown field spec.behaviour');
    const v1 = { ...structuredClone(hpa), apiVersion: 'autoscaling/v2beta2' };
    expect(validateObject(v1).join()).to.include('not served');
  });
});
