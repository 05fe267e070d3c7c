// The HTTP transport with a Telemetry: one duration per exchange (retries included) by endpoint
// template and status, one error per request that fails its caller; nothing changes without one.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../../adapters/common/http.js';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import type { Clock } from '../../../src/ports/clock.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';

/** Each nowMs() call is 7 ms after the last; sleeps return at once. */
function steppingClock(): Clock {
  let now = 0;
  return { nowMs: () => (now += 7), sleep: async () => undefined };
}

describe('adapters/common/http: telemetry', () => {
  let server: http.Server;
  let url: string;
  let script: (res: http.ServerResponse, n: number) => void;
  let n = 0;

  before(async () => {
    server = http.createServer((_req, res) => { n += 1; script(res, n); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => { await new Promise((resolve) => server.close(resolve)); });
  beforeEach(() => { n = 0; });

  it('records each exchange of a retried read, and no error when it succeeds in the end', async () => {
    script = (res, i) => { res.writeHead(i < 3 ? 503 : 200); res.end('x'); };
    const telemetry = new FakeTelemetry();
    const c = new HttpClient({ server: 'triton', baseUrl: url, retries: 2, clock: steppingClock(), telemetry });
    await c.request({ method: 'GET', path: '/v2/models/resnet/stats' });
    expect(telemetry.adapterRequests).to.deep.equal([
      { server: 'triton', endpoint: 'GET /v2/models/{model}/stats', durationMs: 7, status: 503 },
      { server: 'triton', endpoint: 'GET /v2/models/{model}/stats', durationMs: 7, status: 503 },
      { server: 'triton', endpoint: 'GET /v2/models/{model}/stats', durationMs: 7, status: 200 },
    ]);
    expect(telemetry.adapterErrors).to.deep.equal([]);
  });

  it('records one error, by AdapterError kind, when the request fails its caller', async () => {
    script = (res) => { res.writeHead(404); res.end('{"error":"no such model"}'); };
    const telemetry = new FakeTelemetry();
    const c = new HttpClient({ server: 'torchserve', baseUrl: url, clock: steppingClock(), telemetry });
    const err = await c.request({ method: 'GET', path: '/models/ghost' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AdapterError);
    expect(telemetry.adapterRequests.map((r) => r.status)).to.deep.equal([404]);
    expect(telemetry.adapterErrors).to.deep.equal([{ server: 'torchserve', endpoint: 'GET /models/{model}', errorType: 'not-found' }]);
  });

  it('an accepted status is an answer, not an error', async () => {
    script = (res) => { res.writeHead(400); res.end('not ready'); };
    const telemetry = new FakeTelemetry();
    const c = new HttpClient({ server: 'triton', baseUrl: url, clock: steppingClock(), telemetry });
    await c.request({ method: 'GET', path: '/v2/health/ready', accept: [400] });
    expect(telemetry.adapterRequests.map((r) => r.status)).to.deep.equal([400]);
    expect(telemetry.adapterErrors).to.deep.equal([]);
  });

  it('an unreachable server: exchanges without a status, one error of kind unreachable', async () => {
    const telemetry = new FakeTelemetry();
    const c = new HttpClient({ server: 'tfserving', baseUrl: 'http://127.0.0.1:1', retries: 1, clock: steppingClock(), telemetry });
    const err = await c.request({ method: 'GET', path: '/v1/models/half' }).catch((e: unknown) => e);
    expect((err as AdapterError).kind).to.equal('unreachable');
    expect(telemetry.adapterRequests).to.deep.equal([
      { server: 'tfserving', endpoint: 'GET /v1/models/{model}', durationMs: 7 },
      { server: 'tfserving', endpoint: 'GET /v1/models/{model}', durationMs: 7 },
    ]);
    expect(telemetry.adapterErrors).to.deep.equal([{ server: 'tfserving', endpoint: 'GET /v1/models/{model}', errorType: 'unreachable' }]);
  });
});
