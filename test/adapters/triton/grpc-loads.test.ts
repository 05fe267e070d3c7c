// Triton loads over gRPC (adapters/triton/grpc-control.ts): the adapter sends its
// model-repository loads to Triton's gRPC service, because an HTTP load holds one of Triton's
// HTTP threads, and the inference requests it serves, until the load returns. Against the
// emulated Triton's gRPC service on 127.0.0.1: the load goes over gRPC and nothing over HTTP,
// errors read as they do over HTTP (and the previous config is sent back), the restricted-API
// header travels as metadata, an unreachable gRPC port falls back to HTTP with a warning, and the
// address rules.
import { expect } from 'chai';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TritonAdapter, createTritonAdapter } from '../../../adapters/triton/index.js';
import { GRPC_LOAD_ENDPOINT, defaultGrpcTarget, grpcTarget } from '../../../adapters/triton/grpc-control.js';
import { normaliseProfiles } from '../../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../../src/emulator/index.js';
import type { TritonEmulator } from '../../../src/emulator/index.js';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';

const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 4, latencyMs: 4 }] }], () => 'p');
const HTTP_LOAD = 'POST /v2/repository/models/{model}/load';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('triton adapter: loads over gRPC (emulated Triton)', function () {
  this.timeout(20_000);
  let e: TritonEmulator;
  afterEach(async () => {
    await e.stop();
  });

  it('setReplicas and setBatching load over gRPC, never over HTTP, and the server applies them', async () => {
    e = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, grpcPort: 0 });
    expect(e.grpcUrl).to.match(/^127\.0\.0\.1:\d+$/);
    const telemetry = new FakeTelemetry();
    const adapter = new TritonAdapter({ url: e.url, metricsUrl: e.metricsUrl, grpcUrl: e.grpcUrl as string, telemetry });
    expect(adapter.loadsVia).to.equal(e.grpcUrl);
    expect((await adapter.setReplicas('m', 3)).replicas).to.equal(3);
    expect(e.engine('m')?.replicas).to.equal(3);
    const status = await adapter.setBatching('m', { maxBatchSize: 4, batchDelayMs: 2 });
    expect(status).to.include({ maxBatchSize: 4, batchDelayMs: 2 });
    const endpoints = telemetry.adapterRequests.map((r) => r.endpoint);
    expect(endpoints.filter((x) => x === GRPC_LOAD_ENDPOINT)).to.have.length(2);
    expect(endpoints).to.not.include(HTTP_LOAD);
    expect(telemetry.adapterRequests.filter((r) => r.endpoint === GRPC_LOAD_ENDPOINT).every((r) => r.status === 200)).to.equal(true);
    expect((await adapter.capabilities()).warnings).to.deep.equal([]);
  });

  it('a load Triton refuses reads as it does over HTTP (400 and its message), and the previous config goes back over gRPC', async () => {
    e = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, grpcPort: 0, instances: 2 });
    const telemetry = new FakeTelemetry();
    const adapter = createTritonAdapter({ url: e.url, metricsUrl: e.metricsUrl, grpcUrl: `grpc://${e.grpcUrl as string}`, telemetry });
    const snapshot = await adapter.snapshotConfig('m');
    // A config the emulator refuses to parse as an override: a negative instance count.
    const raw = (snapshot as unknown as { raw: Record<string, unknown> }).raw;
    const bad = { ...raw, instance_group: [{ ...(raw['instance_group'] as Record<string, unknown>[])[0], count: -1 }] };
    (snapshot as unknown as { raw: Record<string, unknown> }).raw = bad;
    let err: unknown;
    try {
      await adapter.restoreConfig(snapshot);
    } catch (x) {
      err = x;
    }
    expect(err).to.be.instanceOf(AdapterError);
    const a = err as AdapterError;
    expect(a).to.include({ server: 'triton', status: 400, kind: 'http' });
    expect(a.endpoint).to.equal(`${GRPC_LOAD_ENDPOINT} (${e.grpcUrl as string})`);
    expect(a.message).to.match(/count.*\(the previous config was sent back\)$/);
    expect(telemetry.adapterRequests.filter((r) => r.endpoint === GRPC_LOAD_ENDPOINT).map((r) => r.status)).to.deep.equal([400, 200]);
    expect((await adapter.model('m')).replicas).to.equal(2);
  });

  it('the restricted-API header goes as triton-grpc-protocol-<name> metadata; without it the load is refused (auth)', async () => {
    e = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, grpcPort: 0, restrictedApis: [{ groups: ['model-repository'], header: 'X-Ops-Key', value: 'k3y-of-sixteen-ch' }] });
    const withKey = createTritonAdapter({ url: e.url, metricsUrl: e.metricsUrl, grpcUrl: e.grpcUrl as string, restrictedApiHeader: { name: 'X-Ops-Key', value: 'k3y-of-sixteen-ch' } });
    expect((await withKey.setReplicas('m', 2)).replicas).to.equal(2);
    const without = createTritonAdapter({ url: e.url, metricsUrl: e.metricsUrl, grpcUrl: e.grpcUrl as string });
    let err: unknown;
    try {
      await without.setReplicas('m', 3);
    } catch (x) {
      err = x;
    }
    expect(err).to.be.instanceOf(AdapterError);
    expect(err).to.include({ kind: 'auth', status: 403 });
    expect((err as Error).message).to.match(/This protocol is restricted, expecting header 'triton-grpc-protocol-x-ops-key'/);
    expect(e.engine('m')?.replicas).to.equal(2);
  });

  it('no gRPC listener: the load goes over HTTP and succeeds, and capabilities() warns, naming the address', async () => {
    e = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    const port = await closedPort();
    const telemetry = new FakeTelemetry();
    const adapter = createTritonAdapter({ url: e.url, metricsUrl: e.metricsUrl, grpcUrl: `127.0.0.1:${port}`, telemetry });
    expect((await adapter.setReplicas('m', 2)).replicas).to.equal(2);
    expect(telemetry.adapterRequests.map((r) => r.endpoint)).to.include(HTTP_LOAD);
    const warnings = (await adapter.capabilities()).warnings;
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(new RegExp(`^no gRPC connection to 127\\.0\\.0\\.1:${port} .*loads went over HTTP`));
  });

  it('grpcUrl none: loads over HTTP, no warning', async () => {
    e = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, grpcPort: 0 });
    const telemetry = new FakeTelemetry();
    const adapter = new TritonAdapter({ url: e.url, metricsUrl: e.metricsUrl, grpcUrl: 'none', telemetry });
    expect(adapter.loadsVia).to.equal(undefined);
    await adapter.setReplicas('m', 2);
    expect(telemetry.adapterRequests.map((r) => r.endpoint)).to.include(HTTP_LOAD);
    expect((await adapter.capabilities()).warnings).to.deep.equal([]);
  });
});

describe('triton adapter: the gRPC address', () => {
  it('host:port, grpc:// and http:// give host:port; IPv6 keeps its brackets', () => {
    expect(grpcTarget('127.0.0.1:8001')).to.equal('127.0.0.1:8001');
    expect(grpcTarget('grpc://triton.local:9001')).to.equal('triton.local:9001');
    expect(grpcTarget('http://10.0.0.7:8001/')).to.equal('10.0.0.7:8001');
    expect(grpcTarget('[::1]:8001')).to.equal('[::1]:8001');
  });

  for (const [bad, why] of [['triton.local', /no port/], ['https://h:8001', /scheme https:/], ['h:8001/v2', /only host:port/], ['http://u@h:1', /only host:port/], [':::', /not host:port|no port/]] as const) {
    it(`'${bad}' is refused, naming it`, () => {
      expect(() => grpcTarget(bad)).to.throw(TypeError, why).with.property('message').that.includes(`'${bad}'`);
    });
  }

  it('the default pairs tritonserver\'s ports: HTTP 8000 → gRPC 8001 on the same host; any other HTTP port → none', () => {
    expect(defaultGrpcTarget('http://127.0.0.1:8000')).to.equal('127.0.0.1:8001');
    expect(defaultGrpcTarget('http://triton.ml.svc:8000/')).to.equal('triton.ml.svc:8001');
    expect(defaultGrpcTarget('http://127.0.0.1:38211')).to.equal(undefined);
    expect(defaultGrpcTarget('http://triton')).to.equal(undefined);
  });

  it('a bad grpcUrl fails the adapter\'s construction, naming it', () => {
    expect(() => createTritonAdapter({ url: 'http://127.0.0.1:8000', grpcUrl: 'triton.local' })).to.throw(/gRPC address 'triton.local': no port/);
  });
});
