// Serves a MemoryCoordinationHub to other processes of this machine over loopback HTTP, so that
// agents running as processes of their own share one memory backend without etcd (the demo's
// parent process hosts the hub; each agent's MemoryCoordinator is a client of it through
// hub-client.ts). It plays the part of an etcd server: every operation is one request, checked and
// applied in one synchronous step of the hub (the fenced write stays atomic), and watchers long-poll
// for the hub's events. Loopback only, and every body is validated: bad input gets a 400 and
// touches nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { LeaseRecord } from '../core/fleet/election.js';
import { StaleEpochError, type JsonValue, type MemberInfo } from '../ports/coordinator.js';
import { LockConflictError } from './lease-lock.js';
import { memberInfoSchema } from './member-info.js';
import type { HubEvent, MemoryCoordinationHub } from './memory.js';

/** The path every operation is posted to, and the path of the event long-poll. */
export const HUB_OPS_PATH = '/v1/hub/ops';
export const HUB_EVENTS_PATH = '/v1/hub/events';
/** Events a slow watcher can fall behind by before it is told to re-read everything. */
const EVENT_RING = 1024;
const MAX_BODY_BYTES = 1 << 20;
const LONG_POLL_MS = 10_000;

const leaseRecord = z.object({
  holderIdentity: z.string(),
  leaseDurationMs: z.number().nonnegative(),
  acquireTimeMs: z.number(),
  renewTimeMs: z.number(),
  leaseTransitions: z.number().int().nonnegative(),
});
const json: z.ZodType<unknown> = z.json();

export const hubOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('lock.get'), name: z.string().min(1) }),
  z.object({ op: z.literal('lock.create'), name: z.string().min(1), record: leaseRecord }),
  z.object({ op: z.literal('lock.update'), name: z.string().min(1), record: leaseRecord, version: z.string() }),
  z.object({ op: z.literal('member.put'), info: memberInfoSchema, ttlMs: z.number().positive(), owner: z.string().min(1) }),
  z.object({ op: z.literal('member.renew'), agentId: z.string().min(1), owner: z.string().min(1) }),
  z.object({ op: z.literal('member.remove'), agentId: z.string().min(1), owner: z.string().min(1) }),
  z.object({ op: z.literal('member.list') }),
  z.object({ op: z.literal('desired.read'), agentId: z.string().min(1) }),
  z.object({
    op: z.literal('desired.write'), lockName: z.string().min(1), agentId: z.string().min(1), spec: json,
    epoch: z.number().int(), writtenBy: z.string().min(1),
  }),
]);
export type HubOp = z.infer<typeof hubOp>;

/** What a long-poll answers: the events after the asked sequence number, or a reset. */
export interface HubEventsReply {
  readonly seq: number;
  readonly events: readonly HubEvent[];
  /** The watcher fell too far behind (or the hub is new): re-read members and these records. */
  readonly reset?: { readonly desiredIds: readonly string[] };
}

export interface ServedHub {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

export async function serveCoordinationHub(hub: MemoryCoordinationHub, options: { port?: number } = {}): Promise<ServedHub> {
  const owners = new Map<string, object>();
  const ownerOf = (token: string): object => {
    let o = owners.get(token);
    if (o === undefined) {
      o = {};
      owners.set(token, o);
    }
    return o;
  };
  const desiredIds = new Set<string>();
  const ring: { seq: number; event: HubEvent }[] = [];
  let seq = 0;
  const waiting = new Set<() => void>();
  const unsubscribe = hub.subscribe((event) => {
    ring.push({ seq: ++seq, event });
    if (ring.length > EVENT_RING) ring.shift();
    for (const wake of [...waiting]) wake();
  });

  const apply = async (op: HubOp): Promise<unknown> => {
    switch (op.op) {
      case 'lock.get': return (await hub.lock(op.name).get(new AbortController().signal)) ?? null;
      case 'lock.create': return hub.lock(op.name).create(op.record satisfies LeaseRecord, new AbortController().signal);
      case 'lock.update': return hub.lock(op.name).update(op.record satisfies LeaseRecord, op.version, new AbortController().signal);
      case 'member.put': hub.putMember(op.info as MemberInfo, op.ttlMs, ownerOf(op.owner)); return null;
      case 'member.renew': return hub.renewMember(op.agentId, ownerOf(op.owner));
      case 'member.remove': hub.removeMember(op.agentId, ownerOf(op.owner)); owners.delete(op.owner); return null;
      case 'member.list': return hub.liveMembers();
      case 'desired.read': return hub.readDesired(op.agentId) ?? null;
      case 'desired.write':
        desiredIds.add(op.agentId);
        return hub.writeDesired(op.lockName, op.agentId, op.spec as JsonValue, op.epoch, op.writtenBy);
    }
  };

  const events = (after: number, res: ServerResponse): void => {
    const reply = (): boolean => {
      const oldest = ring[0]?.seq ?? seq + 1;
      if (after < 0) return send(res, 200, { seq, events: [] } satisfies HubEventsReply);
      if (after > seq || after < oldest - 1) return send(res, 200, { seq, events: [], reset: { desiredIds: [...desiredIds] } } satisfies HubEventsReply);
      const newer = ring.filter((e) => e.seq > after);
      if (newer.length === 0) return false;
      return send(res, 200, { seq, events: newer.map((e) => e.event) } satisfies HubEventsReply);
    };
    if (reply()) return;
    const done = (): void => {
      waiting.delete(wake);
      clearTimeout(timer);
    };
    const wake = (): void => {
      if (reply()) done();
    };
    const timer = setTimeout(() => {
      done();
      send(res, 200, { seq, events: [] } satisfies HubEventsReply);
    }, LONG_POLL_MS);
    waiting.add(wake);
    res.on('close', done);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (req.method === 'GET' && url.pathname === HUB_EVENTS_PATH) {
      const after = Number(url.searchParams.get('after') ?? '-1');
      if (!Number.isInteger(after)) {
        send(res, 400, { error: 'after: must be an integer' });
        return;
      }
      events(after, res);
      return;
    }
    if (req.method !== 'POST' || url.pathname !== HUB_OPS_PATH) {
      send(res, 404, { error: `no ${req.method ?? ''} ${url.pathname}` });
      return;
    }
    readBody(req).then(async (text) => {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        send(res, 400, { error: 'the body must be JSON' });
        return;
      }
      const parsed = hubOp.safeParse(body);
      if (!parsed.success) {
        send(res, 400, { error: z.prettifyError(parsed.error) });
        return;
      }
      try {
        send(res, 200, { value: await apply(parsed.data) });
      } catch (err) {
        if (err instanceof LockConflictError) send(res, 409, { error: 'conflict', message: err.message });
        else if (err instanceof StaleEpochError) send(res, 409, { error: 'stale-epoch', message: err.message, currentEpoch: err.currentEpoch ?? null });
        else send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      }
    }, (err: unknown) => {
      send(res, 413, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        unsubscribe();
        for (const wake of [...waiting]) wake();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): true {
  if (res.headersSent || res.destroyed) return true;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`the body is over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
