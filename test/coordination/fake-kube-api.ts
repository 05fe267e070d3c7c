// A small fake of the Kubernetes API server on 127.0.0.1, enough for the coordination backend:
// Leases (coordination.k8s.io/v1) and ConfigMaps (v1) with GET (one, or a list with an equality
// labelSelector), POST, PUT and DELETE; a global resourceVersion; optimistic concurrency (a PUT
// whose metadata.resourceVersion is not the stored one gets 409 Conflict); bearer-token auth; and
// validation of what a real API server would refuse (422). Error bodies are the recorded Status
// bodies in fixtures/, with the name and kind filled in.
// Also the scale subresource of Deployments and StatefulSets (apps/v1 …/{name}/scale): GET returns
// an autoscaling/v1 Scale, PATCH takes only a JSON merge patch (415 otherwise) of spec.replicas,
// 409 when its metadata.resourceVersion is stale; `forbid` denies a verb on a resource as RBAC
// would (403 with the authorizer's message).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

const FIXTURES = new URL('./fixtures/', import.meta.url);
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

type Kind = 'leases' | 'configmaps';
type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body?: Obj;
}

const TOKEN = 'fake-token';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const GROUP: Record<Kind, string | undefined> = { leases: 'coordination.k8s.io', configmaps: undefined };
const API_VERSION: Record<Kind, string> = { leases: 'coordination.k8s.io/v1', configmaps: 'v1' };
const KIND: Record<Kind, string> = { leases: 'Lease', configmaps: 'ConfigMap' };

export class FakeKubeApi {
  readonly requests: LoggedRequest[] = [];
  /** `verb resource` pairs RBAC denies, e.g. `patch deployments/scale`. */
  readonly forbid = new Set<string>();
  /** Workloads with a scale subresource, by `kind/namespace/name` (kind: deployments | statefulsets). */
  private readonly workloads = new Map<string, { replicas: number; resourceVersion: string; uid: string }>();
  /** While true every request gets 503, as from an API server that is down. */
  down = false;
  private readonly objects = new Map<string, Obj>();
  private revision = 1000;
  private uids = 0;
  private url_ = '';
  private readonly server = createServer((req, res) => void this.handle(req, res));

  static async start(): Promise<FakeKubeApi> {
    const api = new FakeKubeApi();
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    api.url_ = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  get url(): string {
    return this.url_;
  }

  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: TOKEN }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Stores an object as it is (a recorded body), keeping its resourceVersion. */
  seed(kind: Kind, obj: Record<string, unknown>): void {
    const o = structuredClone(obj) as Obj;
    const rv = Number(o.metadata.resourceVersion);
    if (Number.isFinite(rv)) this.revision = Math.max(this.revision, rv);
    this.objects.set(key(kind, String(o.metadata.namespace), String(o.metadata.name)), o);
  }

  /** A Deployment (or StatefulSet) with `replicas`, as far as its scale subresource shows it. */
  seedWorkload(kind: 'deployments' | 'statefulsets', namespace: string, name: string, replicas: number): void {
    this.workloads.set(`${kind}/${namespace}/${name}`, { replicas, resourceVersion: String(++this.revision), uid: `00000000-0000-4000-9000-${String(++this.uids).padStart(12, '0')}` });
  }

  /** A change by someone else (an HPA, a person): a new resourceVersion. */
  scaleElsewhere(kind: 'deployments' | 'statefulsets', namespace: string, name: string, replicas: number): void {
    const w = this.workloads.get(`${kind}/${namespace}/${name}`);
    if (w === undefined) throw new Error(`no ${kind} ${namespace}/${name}`);
    w.replicas = replicas;
    w.resourceVersion = String(++this.revision);
  }

  replicasOf(kind: 'deployments' | 'statefulsets', namespace: string, name: string): number | undefined {
    return this.workloads.get(`${kind}/${namespace}/${name}`)?.replicas;
  }

  get(kind: Kind, namespace: string, name: string): Obj | undefined {
    const o = this.objects.get(key(kind, namespace, name));
    return o === undefined ? undefined : structuredClone(o);
  }

  delete(kind: Kind, namespace: string, name: string): void {
    this.objects.delete(key(kind, namespace, name));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    let body: Obj | undefined;
    const reply = (status: number, payload: unknown): void => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, status, ...(body === undefined ? {} : { body }) });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (this.down) return reply(503, status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', undefined, undefined));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, status(401, 'Unauthorized', 'Unauthorized', undefined, undefined));
    const scale = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets)\/([^/]+)\/scale$/.exec(url.pathname);
    if (scale !== null) {
      if (text !== '') {
        try {
          body = JSON.parse(text) as Obj;
        } catch {
          return reply(400, status(400, 'BadRequest', 'the body of the request was in an unknown format', undefined, undefined));
        }
      }
      const [, ns, resource, name] = scale as unknown as [string, string, 'deployments' | 'statefulsets', string];
      return this.handleScale(req, reply, decodeURIComponent(ns), resource, decodeURIComponent(name), body);
    }
    const m = /^\/(?:apis\/coordination\.k8s\.io\/v1|api\/v1)\/namespaces\/([^/]+)\/(leases|configmaps)(?:\/([^/]+))?$/.exec(url.pathname);
    if (m === null) return reply(404, status(404, 'NotFound', 'the server could not find the requested resource', undefined, undefined));
    const namespace = decodeURIComponent(m[1] as string);
    const kind = m[2] as Kind;
    const name = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
    if (url.pathname.startsWith('/api/v1/') !== (kind === 'configmaps')) return reply(404, status(404, 'NotFound', 'the server could not find the requested resource', undefined, undefined));
    if (text !== '') {
      try {
        body = JSON.parse(text) as Obj;
      } catch {
        return reply(400, status(400, 'BadRequest', 'the body of the request was in an unknown format', undefined, undefined));
      }
    }
    const k = name === undefined ? '' : key(kind, namespace, name);
    switch (req.method) {
      case 'GET': {
        if (name === undefined) {
          const selector = parseSelector(url.searchParams.get('labelSelector'));
          const items = [...this.objects.entries()]
            .filter(([key_, o]) => key_.startsWith(`${kind}/${namespace}/`) && matches(o, selector))
            .map(([, o]) => { const { apiVersion: _a, kind: _k, ...rest } = o; return rest; });
          return reply(200, { apiVersion: API_VERSION[kind], kind: `${KIND[kind]}List`, metadata: { resourceVersion: String(this.revision) }, items });
        }
        const o = this.objects.get(k);
        return o === undefined ? reply(404, notFound(kind, name)) : reply(200, o);
      }
      case 'POST': {
        const invalid = body === undefined ? 'no body' : validate(kind, namespace, undefined, body);
        if (invalid !== undefined || body === undefined) return reply(422, invalidStatus(kind, String(body?.metadata?.name ?? ''), invalid ?? 'no body'));
        const newName = String(body.metadata.name);
        const nk = key(kind, namespace, newName);
        if (this.objects.has(nk)) return reply(409, alreadyExists(kind, newName));
        const stored = this.store(kind, namespace, body, undefined);
        this.objects.set(nk, stored);
        return reply(201, stored);
      }
      case 'PUT': {
        if (name === undefined || body === undefined) return reply(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', undefined, undefined));
        const invalid = validate(kind, namespace, name, body);
        if (invalid !== undefined) return reply(422, invalidStatus(kind, name, invalid));
        const existing = this.objects.get(k);
        if (existing === undefined) return reply(404, notFound(kind, name));
        const rv = body.metadata.resourceVersion;
        if (rv !== undefined && rv !== existing.metadata.resourceVersion) return reply(409, conflict(kind, name));
        const stored = this.store(kind, namespace, body, existing);
        this.objects.set(k, stored);
        return reply(200, stored);
      }
      case 'DELETE': {
        if (name === undefined) return reply(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', undefined, undefined));
        const existing = this.objects.get(k);
        if (existing === undefined) return reply(404, notFound(kind, name));
        this.objects.delete(k);
        return reply(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(GROUP[kind] ? { group: GROUP[kind] } : {}), kind, uid: existing.metadata.uid } });
      }
      default:
        return reply(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', undefined, undefined));
    }
  }

  private handleScale(req: IncomingMessage, reply: (status: number, payload: unknown) => void, namespace: string, resource: 'deployments' | 'statefulsets', name: string, body: Obj | undefined): void {
    const verb = req.method === 'GET' ? 'get' : req.method === 'PATCH' ? 'patch' : req.method === 'PUT' ? 'update' : undefined;
    if (verb === undefined) return reply(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', undefined, undefined));
    if (this.forbid.has(`${verb} ${resource}/scale`)) return reply(403, scaleStatus('status-403-forbidden-scale.json', resource, namespace, name, verb));
    const w = this.workloads.get(`${resource}/${namespace}/${name}`);
    if (w === undefined) {
      return reply(404, { ...status(404, 'NotFound', `${resource}.apps "${name}" not found`, undefined, undefined), details: { name, group: 'apps', kind: resource } });
    }
    if (verb === 'patch') {
      const type = String(req.headers['content-type'] ?? '').split(';')[0];
      if (type !== 'application/merge-patch+json') {
        return reply(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`, undefined, undefined));
      }
      const spec = (body?.spec ?? {}) as Record<string, unknown>;
      const meta = (body?.metadata ?? {}) as Record<string, unknown>;
      const replicas = spec.replicas;
      if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) {
        return reply(422, { ...fixture<Record<string, unknown>>('status-422-invalid.json'), message: `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, details: { name, group: 'autoscaling', kind: 'Scale' } });
      }
      if (meta.resourceVersion !== undefined && meta.resourceVersion !== w.resourceVersion) return reply(409, scaleStatus('status-409-conflict-scale.json', resource, namespace, name, verb));
      if (typeof replicas === 'number') {
        w.replicas = replicas;
        w.resourceVersion = String(++this.revision);
      }
    }
    const recorded = fixture('scale-deployment.json');
    return reply(200, {
      ...recorded,
      metadata: { ...(recorded.metadata as object), name, namespace, uid: w.uid, resourceVersion: w.resourceVersion },
      spec: { replicas: w.replicas },
      status: { ...(recorded.status as object), replicas: w.replicas },
    });
  }

  private store(kind: Kind, namespace: string, body: Obj, existing: Obj | undefined): Obj {
    const o = structuredClone(body);
    o.apiVersion = API_VERSION[kind];
    o.kind = KIND[kind];
    o.metadata = {
      ...o.metadata,
      namespace,
      uid: existing?.metadata.uid ?? `00000000-0000-4000-8000-${String(++this.uids).padStart(12, '0')}`,
      creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      resourceVersion: String(++this.revision),
    };
    return o;
  }
}

function key(kind: Kind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseSelector(text: string | null): [string, string][] {
  if (text === null || text === '') return [];
  return text.split(',').map((part) => {
    const [k, v] = part.split('=');
    return [k ?? '', v ?? ''];
  });
}

function matches(o: Obj, selector: [string, string][]): boolean {
  const labels = (o.metadata.labels ?? {}) as Record<string, string>;
  return selector.every(([k, v]) => labels[k] === v);
}

/** Why a real API server would refuse `body` (the parts these tests exercise), or undefined. */
function validate(kind: Kind, namespace: string, urlName: string | undefined, body: Obj): string | undefined {
  if (body.apiVersion !== API_VERSION[kind] || body.kind !== KIND[kind]) return `apiVersion/kind must be ${API_VERSION[kind]} ${KIND[kind]}`;
  const meta = body.metadata as Record<string, unknown> | undefined;
  if (typeof meta?.name !== 'string' || meta.name === '') return 'metadata.name: Required value';
  if (urlName !== undefined && meta.name !== urlName) return 'metadata.name: Invalid value: the name of the object does not match the name on the URL';
  if (meta.namespace !== undefined && meta.namespace !== namespace) return 'metadata.namespace: Invalid value: the namespace of the object does not match the namespace on the request';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) return 'metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\'';
  if (kind === 'leases') {
    const spec = (body.spec ?? {}) as Record<string, unknown>;
    for (const f of ['acquireTime', 'renewTime']) {
      if (spec[f] !== undefined && (typeof spec[f] !== 'string' || !MICRO_TIME.test(spec[f]))) return `spec.${f}: Invalid value: ${JSON.stringify(spec[f])}: must be a MicroTime`;
    }
    if (spec.leaseDurationSeconds !== undefined && (!Number.isInteger(spec.leaseDurationSeconds) || (spec.leaseDurationSeconds as number) <= 0)) return `spec.leaseDurationSeconds: Invalid value: ${String(spec.leaseDurationSeconds)}: must be greater than 0`;
    if (spec.leaseTransitions !== undefined && (!Number.isInteger(spec.leaseTransitions) || (spec.leaseTransitions as number) < 0)) return 'spec.leaseTransitions: Invalid value: must be greater than or equal to 0';
    if (spec.holderIdentity !== undefined && typeof spec.holderIdentity !== 'string') return 'spec.holderIdentity: Invalid value';
  } else {
    const data = (body.data ?? {}) as Record<string, unknown>;
    let size = 0;
    for (const [k, v] of Object.entries(data)) {
      if (!DATA_KEY.test(k)) return `data[${k}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`;
      if (typeof v !== 'string') return `data[${k}]: Invalid value: must be a string`;
      size += k.length + v.length;
    }
    if (size > 1024 * 1024) return 'data: Too long: must have at most 1048576 bytes';
  }
  for (const [k, v] of Object.entries((meta.annotations ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') return `metadata.annotations[${k}]: Invalid value: must be a string`;
  }
  return undefined;
}

// ---------------------------------------------------------------- Status bodies from fixtures/

function status(code: number, reason: string, message: string, name: string | undefined, kind: Kind | undefined): Record<string, unknown> {
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason,
    ...(name === undefined || kind === undefined ? {} : { details: { name, ...(GROUP[kind] ? { group: GROUP[kind] } : {}), kind } }),
    code,
  };
}

function fromFixture(file: string, kind: Kind, name: string): Record<string, unknown> {
  const body = fixture(file);
  const recordedName = (body.details as { name: string }).name;
  const resource = GROUP[kind] ? `${kind}.${GROUP[kind]}` : kind;
  const message = String(body.message)
    .replace(/(leases\.coordination\.k8s\.io|configmaps)/, resource)
    .replace(`"${recordedName}"`, `"${name}"`);
  return { ...body, message, details: { name, ...(GROUP[kind] ? { group: GROUP[kind] } : {}), kind } };
}

function conflict(kind: Kind, name: string): Record<string, unknown> {
  return fromFixture('status-409-conflict.json', kind, name);
}

function alreadyExists(kind: Kind, name: string): Record<string, unknown> {
  return fromFixture('status-409-already-exists.json', kind, name);
}

function notFound(kind: Kind, name: string): Record<string, unknown> {
  return fromFixture('status-404-not-found.json', kind, name);
}

function invalidStatus(kind: Kind, name: string, why: string): Record<string, unknown> {
  const body = fixture('status-422-invalid.json');
  return { ...body, message: `${KIND[kind]} "${name}" is invalid: ${why}`, details: { name, ...(GROUP[kind] ? { group: GROUP[kind] } : {}), kind: KIND[kind], causes: [{ reason: 'FieldValueInvalid', message: why }] } };
}

/** A recorded Status of the scale subresource with the resource, name, namespace and verb filled in. */
function scaleStatus(file: string, resource: 'deployments' | 'statefulsets', namespace: string, name: string, verb: string): Record<string, unknown> {
  const body = fixture(file);
  const message = String(body.message)
    .replaceAll('deployments', resource)
    .replaceAll('"triton-cls"', `"${name}"`)
    .replace('cannot patch', `cannot ${verb}`)
    .replaceAll('serving', namespace);
  return { ...body, message, details: { name, group: 'apps', kind: resource } };
}
