import { expect } from 'chai';
import { FakeClock } from '../../helpers/fake-clock.js';
import { ClosedLoop } from '../../../src/runtime/profiler/index.js';
import { FakeServer } from './fake-server.js';

describe('runtime/profiler/closed-loop', () => {
  it('keeps exactly `concurrency` batches in flight, each sent when the last answered, and records when they ended', async () => {
    const clock = new FakeClock(0);
    const fake = new FakeServer(clock, { computeMs: () => 9, overheadMs: 1 });
    const loop = new ClosedLoop({ adapter: fake, model: 'm', batchSize: 2, concurrency: 3, timeoutMs: 1000, clock });
    loop.start();
    const reached = loop.waitFor(9);
    await clock.advance(30);
    await reached;
    expect(fake.inFlight).to.equal(3);
    expect(fake.maxInFlight).to.equal(3);
    expect(loop.completed.map((c) => c.endMs)).to.deep.equal([10, 10, 10, 20, 20, 20, 30, 30, 30]);
    expect(loop.completed.every((c) => c.latencyMs === 10)).to.equal(true);
    const stopped = loop.stop();
    await clock.advance(10);
    await stopped;
    expect(fake.inFlight).to.equal(0);
    expect(loop.completed).to.have.length(12); // the three in flight finished; nothing new was sent
  });

  it('stops sending at the first failure and wakes whoever waits', async () => {
    const clock = new FakeClock(0);
    const fake = new FakeServer(clock, { computeMs: () => 9, failAt: [4] });
    const loop = new ClosedLoop({ adapter: fake, model: 'm', batchSize: 4, concurrency: 2, timeoutMs: 1000, clock });
    loop.start();
    const waiting = loop.waitFor(100);
    await clock.advance(5);
    await waiting;
    expect(loop.failed).to.equal(true);
    expect((loop.error as Error).message).to.match(/batch 4 failed/);
    await loop.stop();
    expect(fake.sent).to.equal(2);
  });

  it('a wait rejects when aborted', async () => {
    const clock = new FakeClock(0);
    const loop = new ClosedLoop({ adapter: new FakeServer(clock, { computeMs: () => 9 }), model: 'm', batchSize: 1, concurrency: 1, timeoutMs: 1000, clock });
    loop.start();
    const controller = new AbortController();
    const waiting = loop.waitFor(1000, controller.signal);
    controller.abort(new Error('SIGINT'));
    const err = await waiting.then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.equal('SIGINT');
    const stopped = loop.stop();
    await clock.advance(20);
    await stopped;
  });
});
