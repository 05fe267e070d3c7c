// The Kubernetes manifests (deploy/kubernetes): every file parses and validates against the
// Kubernetes schemas offline, every overlay renders with `kubectl kustomize` and its objects
// validate, the sidecar is native, RBAC is least privilege, and the embedded inferline config
// passes `inferline validate` with the environment the sidecar gives it. Broken manifests made by
// mutating a rendered one are caught by the same checks.
import { readdirSync, readFileSync, statSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import yaml from 'js-yaml';
import { parseConfig } from '../../src/config/index.js';
import { runCli } from '../helpers/cli.js';
import { KUBE_DIR, OVERLAYS, REPO_ROOT, kustomize, kustomizeUnavailable, nameOf, parseDocuments, validateObject, type KubeObject, type ServerKind } from './k8s.js';
import { nativeSidecarProblems, rbacProblems, sidecarEnv, type Container, type PodSpec } from './rules.js';

const RECOMMENDED_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry) ? [full] : [];
  });
}

const rel = (file: string): string => path.relative(REPO_ROOT, file);

interface Kustomization { resources?: string[]; components?: string[]; patches?: { path?: string }[]; configMapGenerator?: { files?: string[] }[] }

/** The files kustomizations name as patches: partial objects, checked for field names only. */
function patchFiles(): Set<string> {
  const out = new Set<string>();
  for (const file of yamlFiles(KUBE_DIR).filter((f) => path.basename(f) === 'kustomization.yaml')) {
    const k = yaml.load(readFileSync(file, 'utf8')) as Kustomization;
    for (const p of k.patches ?? []) if (p.path !== undefined) out.add(path.resolve(path.dirname(file), p.path));
  }
  return out;
}

/** The inferline config files (the source of the configMapGenerator inferline-config). */
const configFiles = (): string[] => yamlFiles(KUBE_DIR).filter((f) => path.basename(f) === 'inferline.yaml');

function find(objects: KubeObject[], kind: string, name?: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name || o.metadata?.name?.startsWith(`${name}-`) === true));
}

function only(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = find(objects, kind, name);
  expect(found, `one ${kind} ${name ?? ''}`).to.have.length(1);
  return found[0] as KubeObject;
}

function podSpec(deployment: KubeObject): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

function podLabels(deployment: KubeObject): Record<string, string> {
  return (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The values the kubelet would give the sidecar's environment in a pod of this overlay. */
const POD = { name: 'server-7d9c8b6f5-x2x9q', ip: '10.12.0.7', token: 'a-test-token-of-32-characters-00' };

describe('deploy/kubernetes', () => {
  describe('every manifest file', () => {
    const patches = patchFiles();
    const configs = new Set(configFiles());

    it('has the expected layout', () => {
      for (const dir of ['base', 'components/inferline-sidecar', ...OVERLAYS.map((o) => `overlays/${o}`)]) {
        expect(statSync(path.join(KUBE_DIR, dir, 'kustomization.yaml')).isFile(), dir).to.equal(true);
      }
    });

    for (const file of yamlFiles(KUBE_DIR)) {
      it(`${rel(file)} parses and validates`, () => {
        const docs = parseDocuments(readFileSync(file, 'utf8'), file);
        expect(docs.length, 'documents').to.be.greaterThan(0);
        if (configs.has(file)) return; // an inferline config: checked through the ConfigMap below
        for (const doc of docs) {
          if (Array.isArray(doc) && patches.has(file)) {
            // A JSON 6902 patch: a list of operations.
            for (const op of doc as { op?: unknown; path?: unknown }[]) {
              expect(['add', 'remove', 'replace', 'move', 'copy', 'test'], `${rel(file)} op`).to.include(op.op);
              expect(String(op.path), `${rel(file)} path`).to.match(/^\//);
            }
            continue;
          }
          if (String(doc.apiVersion).startsWith('kustomize.config.k8s.io/')) {
            const k = doc as Kustomization;
            const named = [...(k.resources ?? []), ...(k.components ?? []), ...(k.patches ?? []).flatMap((p) => p.path ?? []),
              ...(k.configMapGenerator ?? []).flatMap((g) => (g.files ?? []).map((f) => f.split('=').pop() as string))];
            for (const entry of named) {
              expect(() => statSync(path.resolve(path.dirname(file), entry)), `${rel(file)} names ${entry}`).not.to.throw();
            }
            continue;
          }
          expect(validateObject(doc, { patch: patches.has(file) })).to.deep.equal([]);
        }
      });
    }
  });

  const unavailable = kustomizeUnavailable();

  for (const overlay of OVERLAYS) {
    describe(`overlays/${overlay} rendered by kubectl kustomize`, function () {
      before(function () {
        if (unavailable !== undefined) {
          console.log(`      skipped: ${unavailable}`);
          this.skip();
        }
      });
      const render = (): KubeObject[] => kustomize(path.join(KUBE_DIR, 'overlays', overlay));

      it('renders, and every object validates against its schema', () => {
        const objects = render();
        const kinds = objects.map((o) => o.kind).sort();
        expect(kinds).to.include.members(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'ServiceMonitor']);
        for (const obj of objects) expect(validateObject(obj), nameOf(obj)).to.deep.equal([]);
        const namespaces = new Set(objects.map((o) => o.metadata?.namespace));
        expect([...namespaces], 'one namespace').to.deep.equal([overlay]);
      });

      it('adds inferline to the server Deployment as a native sidecar', () => {
        const deployment = only(render(), 'Deployment');
        expect(nativeSidecarProblems(podSpec(deployment))).to.deep.equal([]);
        const spec = podSpec(deployment);
        expect(spec.serviceAccountName).to.equal('inferline-agent');
        expect(spec.containers.map((c) => c.name), 'the server stays the only main container').to.deep.equal([overlay]);
        expect(podLabels(deployment)).to.include({ 'inferline.io/agent': 'enabled', 'app.kubernetes.io/name': overlay });
        const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
        expect(selector, 'the Deployment selector is left as it was').to.not.have.property('inferline.io/agent');
      });

      it('grants exactly the verbs the kubernetes coordination backend uses, in its namespace', () => {
        const objects = render();
        expect(find(objects, 'ClusterRole').concat(find(objects, 'ClusterRoleBinding'))).to.deep.equal([]);
        const role = only(objects, 'Role', 'inferline-agent');
        expect(rbacProblems(role)).to.deep.equal([]);
        const binding = only(objects, 'RoleBinding', 'inferline-agent');
        expect(binding.roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'inferline-agent' });
        expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'inferline-agent', namespace: overlay }]);
        only(objects, 'ServiceAccount', 'inferline-agent');
      });

      it('exposes the agent API and metrics, for a ServiceMonitor and by annotation', () => {
        const objects = render();
        const deployment = only(objects, 'Deployment');
        const service = only(objects, 'Service', 'inferline-agent');
        const sSpec = service.spec as { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
        expect(sSpec.ports.map((p) => [p.name, p.port])).to.deep.equal([['api', 8470], ['metrics', 9464]]);
        expect(selects(sSpec.selector, podLabels(deployment)), 'the Service selects the server pods').to.equal(true);
        const sidecar = podSpec(deployment).initContainers?.find((c) => c.name === 'inferline') as Container;
        for (const p of sSpec.ports) expect(sidecar.ports?.map((cp) => cp.name), `targetPort ${p.targetPort}`).to.include(p.targetPort);
        // ServiceMonitor: kubernetes-models checks its schema; what ties it to the Service, by hand.
        const monitor = only(objects, 'ServiceMonitor', 'inferline-agent');
        const mSpec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
        expect(monitor.apiVersion).to.equal('monitoring.coreos.com/v1');
        expect(selects(mSpec.selector.matchLabels, service.metadata?.labels ?? {}), 'the ServiceMonitor selects the Service').to.equal(true);
        expect(mSpec.endpoints).to.have.length(1);
        expect(mSpec.endpoints[0]).to.include({ port: 'metrics', path: '/metrics' });
        expect(Object.keys(monitor.spec as object).sort()).to.deep.equal(['endpoints', 'selector']);
        const annotations = (deployment.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations;
        expect(annotations).to.include({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464', 'prometheus.io/path': '/metrics' });
        const pdb = only(objects, 'PodDisruptionBudget', 'inferline-agent');
        const pSpec = pdb.spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
        expect(pSpec.maxUnavailable).to.equal(1);
        expect(selects(pSpec.selector.matchLabels, podLabels(deployment)), 'the PDB selects the server pods').to.equal(true);
      });

      it('labels what it adds with the recommended app.kubernetes.io labels', () => {
        for (const obj of render().filter((o) => o.kind !== 'Deployment' && !(o.metadata?.name ?? '').startsWith(`${overlay}-`))) {
          expect(Object.keys(obj.metadata?.labels ?? {}), nameOf(obj)).to.include.members(RECOMMENDED_LABELS);
          expect(obj.metadata?.labels?.['app.kubernetes.io/name'], nameOf(obj)).to.equal('inferline');
        }
      });

      it('embeds an inferline config that passes validation with the sidecar\'s environment', async () => {
        const objects = render();
        const configMap = only(objects, 'ConfigMap', 'inferline-config');
        expect(configMap.metadata?.name, 'a fixed name, so edits reach the pods in place').to.equal('inferline-config');
        const text = (configMap.data as Record<string, string>)['config.yaml'] as string;
        const deployment = only(objects, 'Deployment');
        const spec = podSpec(deployment);
        const sidecar = spec.initContainers?.find((c) => c.name === 'inferline') as Container;
        expect(sidecar.args).to.deep.equal(['agent', '--config', '/etc/inferline/config.yaml']);
        const mount = sidecar.volumeMounts?.find((m) => m.mountPath === '/etc/inferline');
        expect(mount, 'the config folder is mounted').to.not.equal(undefined);
        expect(mount).to.not.have.property('subPath');
        const volume = spec.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.configMap?.name).to.equal('inferline-config');

        const env = sidecarEnv(sidecar, { podName: POD.name, namespace: overlay, podIp: POD.ip, secrets: { 'inferline-agent-token/token': POD.token } });
        const config = parseConfig(text, `${overlay}/config.yaml`, env);
        const agent = config.agent;
        expect(agent, 'an agent section').to.not.equal(undefined);
        if (agent === undefined) return;
        expect(agent.id).to.equal(POD.name);
        expect(agent.api.token).to.equal(POD.token);
        expect(agent.api.advertiseUrl).to.equal(`http://${POD.ip}:8470`);
        expect(agent.server.kind).to.equal(overlay);
        expect(agent.mode).to.equal('recommend');
        expect(config.coordination.backend).to.equal('kubernetes');
        const k8s = (config.coordination as { kubernetes?: { namespace: string; leaseName: string; configMapName: string } }).kubernetes;
        expect(k8s).to.include({ namespace: overlay, leaseName: 'inferline-leader', configMapName: 'inferline-desired-state' });
        // The ports the config listens on are the ones the sidecar declares and the Service uses.
        expect(agent.api.host).to.equal('0.0.0.0');
        expect(sidecar.ports?.find((p) => p.name === 'api')?.containerPort).to.equal(agent.api.port);
        expect(config.telemetry.prometheus).to.include({ host: '0.0.0.0', port: 9464 });
        // The server's URL is a port of the server container in the same pod.
        const serverPorts = (spec.containers[0]?.ports ?? []).map((p) => p.containerPort);
        for (const url of [agent.server.url, agent.server.metricsUrl, agent.server.managementUrl].filter((u): u is string => u !== undefined)) {
          expect(new URL(url).hostname, url).to.equal('127.0.0.1');
          expect(serverPorts, url).to.include(Number(new URL(url).port));
        }

        // And the CLI agrees: `inferline validate --config FILE` exits 0 on the ConfigMap's file.
        const dir = mkdtempSync(path.join(os.tmpdir(), 'inferline-deploy-'));
        try {
          const file = path.join(dir, 'config.yaml');
          writeFileSync(file, text);
          const run = await runCli(['validate', '--config', file]);
          expect(run.code, run.stderr).to.equal(0);
          expect(run.stdout).to.match(/valid/);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('starts the server the way inferline needs it', () => {
        serverChecks[overlay](render());
      });
    });
  }

  describe('a broken manifest is caught by the same checks', function () {
    before(function () {
      if (unavailable !== undefined) {
        console.log(`      skipped: ${unavailable}`);
        this.skip();
      }
    });
    const rendered = (): { objects: KubeObject[]; deployment: KubeObject; sidecar: Container } => {
      const objects = kustomize(path.join(KUBE_DIR, 'overlays/triton'));
      const deployment = only(objects, 'Deployment');
      const sidecar = podSpec(deployment).initContainers?.find((c) => c.name === 'inferline') as Container;
      return { objects, deployment, sidecar };
    };

    it('the sidecar without restartPolicy: Always (a plain init container that would block the pod)', () => {
      const { deployment, sidecar } = rendered();
      delete sidecar.restartPolicy;
      expect(nativeSidecarProblems(podSpec(deployment))).to.deep.equal(['initContainers[inferline].restartPolicy is undefined — must be Always (a native sidecar, Kubernetes 1.29+)']);
    });

    it('the sidecar moved to containers', () => {
      const { deployment, sidecar } = rendered();
      const spec = podSpec(deployment);
      spec.initContainers = [];
      spec.containers.push(sidecar);
      expect(nativeSidecarProblems(spec).join('\n')).to.match(/no initContainers entry named inferline/);
    });

    it('a Deployment of apps/v1beta1 (removed in Kubernetes 1.16)', () => {
      const { deployment } = rendered();
      deployment.apiVersion = 'apps/v1beta1';
      expect(validateObject(deployment).join('\n')).to.match(/apps\/v1beta1 Deployment triton: apiVersion\/kind not served/);
    });

    it('a PodDisruptionBudget of policy/v1beta1 (removed in 1.25)', () => {
      const { objects } = rendered();
      const pdb = only(objects, 'PodDisruptionBudget');
      pdb.apiVersion = 'policy/v1beta1';
      expect(validateObject(pdb)).to.have.length(1);
    });

    it('a misspelt field (restartpolicy) and a wrong type (a port as a list)', () => {
      const { deployment, sidecar } = rendered();
      const wrong = sidecar as unknown as Record<string, unknown>;
      wrong.restartpolicy = wrong.restartPolicy;
      delete wrong.restartPolicy;
      expect(validateObject(deployment).join('\n')).to.match(/unknown field spec\.template\.spec\.initContainers\[0\]\.restartpolicy/);
      (sidecar.ports as unknown as Record<string, unknown>[])[0] = { name: 'api', containerPort: [8470] };
      expect(validateObject(deployment).join('\n')).to.match(/containerPort must be integer/);
    });

    it('a Deployment missing its selector (a required field)', () => {
      const { deployment } = rendered();
      delete (deployment.spec as Record<string, unknown>).selector;
      expect(validateObject(deployment).join('\n')).to.match(/data\/spec must have required property selector/);
    });

    it('a Role with one verb too many, or one too few', () => {
      const role = only(rendered().objects, 'Role');
      const rules = role.rules as { verbs: string[] }[];
      rules[0]?.verbs.push('watch');
      rules[1]?.verbs.splice(rules[1].verbs.indexOf('update'), 1);
      expect(rbacProblems(role)).to.deep.equal([
        'leases (coordination.k8s.io): verbs create, delete, get, list, update, watch — must be exactly create, delete, get, list, update',
        'configmaps (core): verbs create, get — must be exactly create, get, update',
      ]);
    });

    it('an environment override that names no config setting', () => {
      const { objects, sidecar } = rendered();
      sidecar.env?.push({ name: 'INFERLINE_AGENT__API__ADVERTISE', value: 'http://x' });
      const text = (only(objects, 'ConfigMap', 'inferline-config').data as Record<string, string>)['config.yaml'] as string;
      const env = sidecarEnv(sidecar, { podName: POD.name, namespace: 'triton', podIp: POD.ip, secrets: { 'inferline-agent-token/token': POD.token } });
      expect(() => parseConfig(text, 'config.yaml', env)).to.throw(/INFERLINE_AGENT__API__ADVERTISE/);
    });
  });
});

function configMapData(objects: KubeObject[], name: string): Record<string, string> {
  return only(objects, 'ConfigMap', name).data as Record<string, string>;
}

/** The mount of the ConfigMap whose generated name starts with `name`, in a container. */
function configMapMount(spec: PodSpec, container: Container, name: string): string | undefined {
  const volume = spec.volumes?.find((v) => v.configMap?.name?.startsWith(name) === true);
  return container.volumeMounts?.find((m) => m.name === volume?.name)?.mountPath;
}

function parsedAgent(objects: KubeObject[], overlay: ServerKind) {
  const text = configMapData(objects, 'inferline-config')['config.yaml'] as string;
  const agent = parseConfig(text, `${overlay}/config.yaml`, {}).agent;
  if (agent === undefined) throw new Error('no agent section');
  return agent;
}

const serverChecks: Record<ServerKind, (objects: KubeObject[]) => void> = {
  triton: (objects) => {
    const server = podSpec(only(objects, 'Deployment')).containers[0] as Container;
    expect(server.args).to.include('--model-control-mode=explicit');
    expect(server.ports?.map((p) => p.containerPort)).to.include.members([8000, 8002]);
  },
  torchserve: (objects) => {
    const spec = podSpec(only(objects, 'Deployment'));
    const server = spec.containers[0] as Container;
    const sidecar = spec.initContainers?.find((c) => c.name === 'inferline') as Container;
    // config.properties: the model API and Prometheus metrics on, token auth left on.
    const mountedAt = configMapMount(spec, server, 'torchserve-config');
    expect(server.args?.join(' ')).to.contain(`--ts-config ${mountedAt}/config.properties`);
    const props = Object.fromEntries((configMapData(objects, 'torchserve-config')['config.properties'] as string).split('\n')
      .filter((l) => /^\s*[^#\s]/.test(l)).map((l) => l.split('=').map((s) => s.trim()) as [string, string]));
    expect(props).to.include({ enable_model_api: 'true', metrics_mode: 'prometheus' });
    expect(props.disable_token_authorization ?? 'false').to.equal('false');
    expect(server.args ?? []).to.not.include('--disable-token-auth');
    // key_file.json: written into TorchServe's working directory, an emptyDir the sidecar mounts too.
    const volume = spec.volumes?.find((v) => v.name === 'torchserve-run');
    expect(volume?.emptyDir, 'an emptyDir').to.not.equal(undefined);
    const serverMount = server.volumeMounts?.find((m) => m.name === 'torchserve-run');
    const sidecarMount = sidecar.volumeMounts?.find((m) => m.name === 'torchserve-run');
    expect(server.workingDir).to.equal(serverMount?.mountPath);
    expect(sidecarMount?.readOnly).to.equal(true);
    const agent = parsedAgent(objects, 'torchserve');
    expect(agent.server.keyFile).to.equal(`${sidecarMount?.mountPath}/key_file.json`);
    expect(Number(new URL(props.management_address as string).port)).to.equal(Number(new URL(agent.server.managementUrl as string).port));
  },
  tfserving: (objects) => {
    const spec = podSpec(only(objects, 'Deployment'));
    const server = spec.containers[0] as Container;
    const sidecar = spec.initContainers?.find((c) => c.name === 'inferline') as Container;
    const args = server.args ?? [];
    expect(args).to.include('--rest_api_port=8501');
    expect(args).to.include('--enable_batching');
    const mountedAt = configMapMount(spec, server, 'tfserving-config');
    const files = configMapData(objects, 'tfserving-config');
    const flag = (name: string): string => (args.find((a) => a.startsWith(`--${name}=`)) ?? '').split('=')[1] ?? '';
    expect(path.dirname(flag('monitoring_config_file'))).to.equal(mountedAt);
    expect(files[path.basename(flag('monitoring_config_file'))]).to.match(/prometheus_config\s*\{[^}]*enable:\s*true/);
    expect(files[path.basename(flag('monitoring_config_file'))]).to.contain('path: "/monitoring/prometheus/metrics"');
    expect(files[path.basename(flag('model_config_file'))]).to.contain('name: "resnet"');
    const agent = parsedAgent(objects, 'tfserving');
    expect(agent.models).to.deep.equal(['resnet']);
    expect(agent.server.metricsUrl).to.equal('http://127.0.0.1:8501/monitoring/prometheus/metrics');
    // The sidecar reads the same batching parameters file TF Serving was started with.
    expect(configMapMount(spec, sidecar, 'tfserving-config')).to.equal(mountedAt);
    expect(agent.server.batchingParametersFile).to.equal(flag('batching_parameters_file'));
    expect(files[path.basename(flag('batching_parameters_file'))]).to.match(/max_batch_size \{ value: \d+ \}/);
  },
};
