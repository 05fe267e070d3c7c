// The agent's calls to the leader (and the leader's to an agent) fail with typed errors, each with
// a stable name and the failure as cause, and the telemetry's error type comes from the class, not
// from the message: a table of real failures (a peer that refuses with 409 or 500, a closed port,
// a peer that never answers, no leader at all, an empty answer) and of errors from elsewhere.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { FleetPolicy } from '../../../src/core/fleet/index.js';
import type { MemberInfo } from '../../../src/ports/coordinator.js';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import {
  errorTypeOf, LeaderConflictError, NoPeerError, PeerAnswerError, PeerClient, PeerStatusError, PeerTimeoutError, PeerUnreachableError,
} from '../../../src/runtime/agent/peer-client.js';
import type { LeaderLocation } from '../../../src/runtime/agent/peer-client.js';

type Answer = { status: number; body: string } | 'never';

async function serve(answer: Answer): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (answer === 'never') return;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: one just given back. */
async function closedPort(): Promise<string> {
  const s = await serve({ status: 200, body: '' });
  await s.close();
  return s.url;
}

function clientAt(endpoint: string | undefined, leaderId: string | undefined = 'leader'): PeerClient {
  const where: LeaderLocation = { kind: 'remote', leaderId, endpoint };
  return new PeerClient({ agentId: 'a1', token: 'secret', locate: () => where });
}

const POLICY = { from: 'a1', atMs: 1, slos: {}, prices: {} } as unknown as FleetPolicy;
const member = (endpoint: string | undefined): MemberInfo => ({
  agentId: 'b1', serverKind: 'triton', hardware: 'cpu', models: ['m'], capacity: 1, ...(endpoint === undefined ? {} : { endpoint }),
} as MemberInfo);

interface CallCase {
  readonly name: string;
  readonly given: Answer | 'closed' | 'no-leader' | 'no-endpoint';
  readonly call: (c: PeerClient, endpoint: string | undefined) => Promise<unknown>;
  readonly want: { readonly cls: new (...args: never[]) => Error; readonly name: string; readonly type: string; readonly status?: number; readonly cause?: boolean };
}

const CALLS: readonly CallCase[] = [
  {
    name: 'a policy the leader refuses with 409 (the fleet\'s is newer)', given: { status: 409, body: '{"error":"kept"}' },
    call: (c) => c.publishPolicy(POLICY),
    want: { cls: LeaderConflictError, name: 'LeaderConflictError', type: 'http', status: 409 },
  },
  {
    name: 'samples the leader answers with 500', given: { status: 500, body: '{"error":"boom"}' },
    call: (c) => c.pushSamples([]),
    want: { cls: PeerStatusError, name: 'PeerStatusError', type: 'http', status: 500 },
  },
  {
    name: 'samples to a closed port', given: 'closed',
    call: (c) => c.pushSamples([]),
    want: { cls: PeerUnreachableError, name: 'PeerUnreachableError', type: 'unreachable', cause: true },
  },
  {
    name: 'a profile request the agent never answers', given: 'never',
    call: (c, endpoint) => c.requestProfile(member(endpoint), 'm', AbortSignal.timeout(50)),
    want: { cls: PeerTimeoutError, name: 'PeerTimeoutError', type: 'timeout', cause: true },
  },
  {
    name: 'samples with no leader elected', given: 'no-leader',
    call: (c) => c.pushSamples([]),
    want: { cls: NoPeerError, name: 'NoPeerError', type: 'unreachable' },
  },
  {
    name: 'a profile request to an agent with no endpoint', given: 'no-endpoint',
    call: (c) => c.requestProfile(member(undefined), 'm', AbortSignal.timeout(1000)),
    want: { cls: NoPeerError, name: 'NoPeerError', type: 'unreachable' },
  },
  {
    name: 'a profile answered with no points', given: { status: 200, body: '{"profile":{"points":[]}}' },
    call: (c, endpoint) => c.requestProfile(member(endpoint), 'm', AbortSignal.timeout(1000)),
    want: { cls: PeerAnswerError, name: 'PeerAnswerError', type: 'error' },
  },
];

describe('runtime/agent/peer-client: typed errors', function () {
  for (const c of CALLS) {
    it(`${c.name} → ${c.want.name} (${c.want.type})`, async () => {
      const server = typeof c.given === 'object' || c.given === 'never' ? await serve(c.given) : undefined;
      const endpoint = server?.url ?? (c.given === 'closed' ? await closedPort() : undefined);
      const client = clientAt(endpoint, c.given === 'no-leader' ? undefined : 'leader');
      try {
        const err = await c.call(client, endpoint).then(() => undefined, (e: unknown) => e);
        expect(err, 'rejects').to.be.instanceOf(c.want.cls);
        expect((err as Error).name).to.equal(c.want.name);
        expect(errorTypeOf(err)).to.equal(c.want.type);
        if (c.want.status !== undefined) expect((err as PeerStatusError).status).to.equal(c.want.status);
        if (c.want.cause) expect((err as Error).cause, 'cause').to.be.instanceOf(Error);
      } finally {
        await server?.close();
      }
    });
  }

  it('a policy with no leader endpoint is not sent (false), and no error', async () => {
    expect(await clientAt(undefined).publishPolicy(POLICY)).to.equal(false);
  });

  const OTHERS: readonly { name: string; given: unknown; want: string }[] = [
    { name: 'an adapter timeout', given: new AdapterError({ server: 'triton', endpoint: 'x', kind: 'timeout', message: 'slow' }), want: 'timeout' },
    { name: 'an adapter that cannot be reached', given: new AdapterError({ server: 'triton', endpoint: 'x', kind: 'unreachable', message: 'refused' }), want: 'unreachable' },
    { name: 'an adapter answer with a status', given: new AdapterError({ server: 'triton', endpoint: 'x', kind: 'auth', status: 401, message: 'no' }), want: 'http' },
    { name: 'an adapter body that breaks the contract', given: new AdapterError({ server: 'triton', endpoint: 'x', kind: 'malformed', message: 'bad' }), want: 'error' },
    { name: 'a periodic task that timed out', given: Object.assign(new Error('took too long'), { name: 'PeriodicTimeoutError' }), want: 'timeout' },
    { name: 'a message that only says "timed out"', given: new Error('timed out'), want: 'error' },
    { name: 'not an Error', given: 'ECONNREFUSED', want: 'error' },
  ];
  for (const c of OTHERS) {
    it(`errorTypeOf: ${c.name} → ${c.want}`, () => {
      expect(errorTypeOf(c.given)).to.equal(c.want);
    });
  }
});
