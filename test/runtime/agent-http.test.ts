import { expect } from 'chai';
import { AgentApi, HttpProblem } from '../../src/runtime/agent-http.js';

async function call(url: string, method = 'GET', body?: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method, ...(body !== undefined ? { body } : {}), headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) as unknown };
}

describe('runtime/agent-http', () => {
  let api: AgentApi;
  const received: unknown[] = [];
  let ready = false;
  let plan: unknown;

  before(async () => {
    api = await AgentApi.start({ port: 0, token: 's3cret' }, {
      healthy: () => true,
      ready: () => (ready ? { ready } : { ready, reason: 'coordinator not reached' }),
      status: () => ({ mode: 'recommend', epoch: 3n }),
      plan: () => plan,
      replan: async () => ({ accepted: true }),
      samples: (b) => {
        if (typeof b !== 'object' || b === null || !('agent' in b)) throw new HttpProblem(400, 'samples: must have an agent');
        received.push(b);
      },
    });
  });
  after(async () => { await api.stop(); });

  it('serves health, readiness, status and plan', async () => {
    expect(await call(`${api.url}/healthz`)).to.deep.equal({ status: 200, body: { ok: true } });
    expect(await call(`${api.url}/readyz`)).to.deep.equal({ status: 503, body: { ready: false, reason: 'coordinator not reached' } });
    ready = true;
    expect((await call(`${api.url}/readyz`)).status).to.equal(200);
    expect(await call(`${api.url}/v1/status`)).to.deep.equal({ status: 200, body: { mode: 'recommend', epoch: '3' } });
    expect(await call(`${api.url}/v1/plan`)).to.deep.equal({ status: 404, body: { error: 'no plan yet' } });
    plan = { pipeline: 'p' };
    expect(await call(`${api.url}/v1/plan`)).to.deep.equal({ status: 200, body: { pipeline: 'p' } });
  });

  const mutating: { name: string; args: [string, string, string | undefined, string | undefined]; want: { status: number; error?: RegExp } }[] = [
    { name: 'no token', args: ['/v1/replan', 'POST', undefined, undefined], want: { status: 401, error: /needs "Authorization: Bearer <token>"/ } },
    { name: 'a wrong token', args: ['/v1/replan', 'POST', undefined, 'nope'], want: { status: 401, error: /wrong/ } },
    { name: 'GET on a POST endpoint', args: ['/v1/replan', 'GET', undefined, 's3cret'], want: { status: 405 } },
    { name: 'the right token', args: ['/v1/replan', 'POST', undefined, 's3cret'], want: { status: 202 } },
    { name: 'samples that are not JSON', args: ['/v1/samples', 'POST', '{"agent":', 's3cret'], want: { status: 400, error: /not JSON/ } },
    { name: 'samples the handler refuses', args: ['/v1/samples', 'POST', '{"x":1}', 's3cret'], want: { status: 400, error: /must have an agent/ } },
    { name: 'good samples', args: ['/v1/samples', 'POST', '{"agent":"a1","arrivals":5}', 's3cret'], want: { status: 204 } },
    { name: 'an unknown path', args: ['/v2/nope', 'GET', undefined, undefined], want: { status: 404 } },
  ];
  for (const c of mutating) {
    it(`mutating calls: ${c.name}`, async () => {
      const [path, method, body, token] = c.args;
      const r = await call(`${api.url}${path}`, method, body, token);
      expect(r.status).to.equal(c.want.status);
      if (c.want.error) expect((r.body as { error: string }).error).to.match(c.want.error);
    });
  }

  it('hands good samples to the handler, and only those', () => {
    expect(received).to.deep.equal([{ agent: 'a1', arrivals: 5 }]);
  });

  it('refuses mutating calls when no token is configured', async () => {
    const open = await AgentApi.start({ port: 0 }, { healthy: () => true, ready: () => ({ ready: true }), status: () => ({}), plan: () => undefined, replan: async () => ({}) });
    try {
      const r = await call(`${open.url}/v1/replan`, 'POST', undefined, 'anything');
      expect(r.status).to.equal(403);
    } finally {
      await open.stop();
    }
  });
});
