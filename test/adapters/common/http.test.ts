import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, describeBody } from '../../../adapters/common/http.js';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import type { Clock } from '../../../src/ports/clock.js';

/** A clock whose sleeps return at once, recording what was asked. */
function instantClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, nowMs: () => 0, sleep: async (ms) => { slept.push(ms); } };
}

describe('adapters/common/http', () => {
  let server: http.Server;
  let url: string;
  let hits: string[] = [];
  let script: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

  before(async () => {
    server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      script(req, res, hits.length);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => { await new Promise((resolve) => server.close(resolve)); });
  beforeEach(() => { hits = []; });

  it('retries an idempotent read on 503 with doubling backoff, then succeeds', async () => {
    script = (_req, res, n) => { res.writeHead(n < 3 ? 503 : 200); res.end(n < 3 ? 'busy' : 'ok'); };
    const clock = instantClock();
    const c = new HttpClient({ server: 'triton', baseUrl: url, retries: 2, backoffMs: 50, clock });
    const r = await c.request({ method: 'GET', path: '/v2/health/ready' });
    expect(r.body).to.equal('ok');
    expect(hits).to.have.length(3);
    expect(clock.slept).to.deep.equal([50, 100]);
  });

  it('never retries a POST, and names server, endpoint and status', async () => {
    script = (_req, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"error":"explicit model load / unload is not allowed if polling is enabled"}'); };
    const c = new HttpClient({ server: 'triton', baseUrl: url, clock: instantClock() });
    try {
      await c.request({ method: 'POST', path: '/v2/repository/models/m/load', body: {} });
      expect.fail('no error');
    } catch (err) {
      expect(err).to.be.instanceOf(AdapterError);
      expect((err as AdapterError).message).to.equal('triton POST /v2/repository/models/m/load → 503: explicit model load / unload is not allowed if polling is enabled');
      expect((err as AdapterError).status).to.equal(503);
    }
    expect(hits).to.have.length(1);
  });

  it('does not retry a 4xx, and maps 401/403 to auth and 404 to not-found', async () => {
    for (const [status, kind] of [[401, 'auth'], [404, 'not-found'], [400, 'http']] as const) {
      hits = [];
      script = (_req, res) => { res.writeHead(status); res.end(''); };
      const err = await new HttpClient({ server: 'torchserve', baseUrl: url, clock: instantClock() }).request({ method: 'GET', path: '/models' }).catch((e: unknown) => e);
      expect((err as AdapterError).kind).to.equal(kind);
      expect(hits).to.have.length(1);
    }
  });

  it('times out, retrying reads, and says so', async () => {
    script = () => { /* never answers */ };
    const c = new HttpClient({ server: 'tfserving', baseUrl: url, timeoutMs: 50, retries: 1, clock: instantClock() });
    const err = await c.request({ method: 'GET', path: '/v1/models/m' }).catch((e: unknown) => e);
    expect((err as AdapterError).kind).to.equal('timeout');
    expect((err as AdapterError).message).to.match(/tfserving GET \/v1\/models\/m: no answer within 50 ms/);
    expect(hits).to.have.length(2);
  });

  it('reports an unreachable server', async () => {
    const c = new HttpClient({ server: 'triton', baseUrl: 'http://127.0.0.1:1', retries: 0 });
    const err = await c.request({ method: 'GET', path: '/v2' }).catch((e: unknown) => e);
    expect((err as AdapterError).kind).to.equal('unreachable');
  });

  it('accepts listed non-2xx statuses as answers and sends JSON bodies', async () => {
    let got = '';
    script = (req, res) => { req.on('data', (d: Buffer) => { got += d.toString(); }); req.on('end', () => { res.writeHead(400); res.end('no'); }); };
    const r = await new HttpClient({ server: 'triton', baseUrl: url }).request({ method: 'POST', path: '/x', body: { a: 1 }, accept: [400] });
    expect(r.status).to.equal(400);
    expect(got).to.equal('{"a":1}');
  });

  it('keeps one connection alive across requests', async () => {
    const sockets = new Set<unknown>();
    script = (req, res) => { sockets.add(req.socket); res.end('ok'); };
    const c = new HttpClient({ server: 'triton', baseUrl: url });
    for (let i = 0; i < 3; i++) expect((await c.request({ method: 'GET', path: '/v2/models/stats' })).body).to.equal('ok');
    expect(hits).to.have.length(3);
    expect(sockets.size).to.equal(1);
    c.close();
  });

  it('joins the base path, the path and the query, and lower-cases answer headers', async () => {
    script = (_req, res) => { res.writeHead(202, { 'X-Answer': 'yes' }); res.end(''); };
    const c = new HttpClient({ server: 'torchserve', baseUrl: `${url}/prefix/` });
    const r = await c.request({ method: 'PUT', path: '/models/m', query: { min_worker: 2, synchronous: false, url: 'a b:/c' } });
    expect(hits).to.deep.equal(['PUT /prefix/models/m?min_worker=2&synchronous=false&url=a+b%3A%2Fc']);
    expect(r.status).to.equal(202);
    expect(r.headers['x-answer']).to.equal('yes');
  });

  it('times out when the body stalls after the headers', async () => {
    script = (_req, res) => { res.writeHead(200, { 'Content-Length': '10' }); res.write('12345'); };
    const c = new HttpClient({ server: 'triton', baseUrl: url, timeoutMs: 80, retries: 0 });
    const err = await c.request({ method: 'GET', path: '/v2/models/stats' }).catch((e: unknown) => e);
    expect((err as AdapterError).kind).to.equal('timeout');
  });

  it('describes HTML error pages as text', () => {
    expect(describeBody({ body: '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad</h1></body></html>', headers: {} })).to.equal('502 Bad Gateway Bad');
  });
});
