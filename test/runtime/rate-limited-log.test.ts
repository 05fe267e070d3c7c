import { expect } from 'chai';
import { RateLimitedLog } from '../../src/runtime/rate-limited-log.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('runtime: rate-limited log', () => {
  it('logs the first of a kind, counts the rest within the interval, and reports the count with the next line', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
    const r = new RateLimitedLog({ log, clock, intervalMs: 10_000 });
    for (let i = 0; i < 40; i++) {
      r.warn('etcd/renew', `renew failed ${i}`);
      r.warn('etcd/watch', `watch failed ${i}`);
      await clock.advance(250);
    }
    expect(lines).to.deep.equal(['warn renew failed 0', 'warn watch failed 0']);
    expect(r.suppressed.get('etcd/renew')).to.equal(39);
    r.error('etcd/renew', 'renew failed again');
    expect(lines[2]).to.equal('error renew failed again (39 more like it in the last 10 s)');
    r.warn('etcd/renew', 'renew failed once more');
    expect(lines).to.have.length(3);
  });
});
