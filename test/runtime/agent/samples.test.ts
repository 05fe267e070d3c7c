import { expect } from 'chai';
import { parsePushedSamples } from '../../../src/runtime/agent/samples.js';
import { HttpProblem } from '../../../src/runtime/agent-http.js';

const good = { model: 'm', fromMs: 0, toMs: 1000, arrivals: 10, reset: false, rates: { requestsPerS: 10, meanQueueMs: 2, failuresPerS: 0 } };

describe('runtime/agent: pushed samples are checked field by field', () => {
  const cases: { name: string; body: unknown; want: string }[] = [
    { name: 'not an object', body: [1], want: 'the body must be an object {agentId, samples}' },
    { name: 'no agent id', body: { samples: [] }, want: 'agentId must be a non-empty string' },
    { name: 'samples not a list', body: { agentId: 'a', samples: {} }, want: 'samples must be a list' },
    { name: 'a sample not an object', body: { agentId: 'a', samples: [7] }, want: 'samples[0] must be an object' },
    { name: 'no model', body: { agentId: 'a', samples: [{ ...good, model: '' }] }, want: 'samples[0].model must be a model name' },
    { name: 'time backwards', body: { agentId: 'a', samples: [{ ...good, toMs: 0 }] }, want: 'samples[0]: toMs must be after fromMs' },
    { name: 'negative arrivals', body: { agentId: 'a', samples: [{ ...good, arrivals: -1 }] }, want: 'samples[0].arrivals must be ≥ 0' },
    { name: 'infinite arrivals', body: { agentId: 'a', samples: [{ ...good, arrivals: Number.POSITIVE_INFINITY }] }, want: 'samples[0].arrivals must be a finite number' },
    { name: 'bad pending', body: { agentId: 'a', samples: [{ ...good, pending: -3 }] }, want: 'samples[0].pending must be a number ≥ 0' },
    { name: 'bad queued', body: { agentId: 'a', samples: [{ ...good, queued: 'lots' }] }, want: 'samples[0].queued must be a number ≥ 0' },
    {
      name: 'bad batch sizes', body: { agentId: 'a', samples: [{ ...good, batchSizes: [{ batchSize: 0, executions: 1, meanComputeMs: 1 }] }] },
      want: 'samples[0].batchSizes[0] must be {batchSize ≥ 1, executions ≥ 0, meanComputeMs ≥ 0 or null}',
    },
  ];
  for (const c of cases) {
    it(`400 on ${c.name}`, () => {
      let err: unknown;
      try {
        parsePushedSamples(c.body);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(HttpProblem);
      expect((err as HttpProblem).status).to.equal(400);
      expect((err as Error).message).to.equal(`bad samples: ${c.want}`);
    });
  }

  it('keeps what it checked; rates that are not finite numbers ≥ 0 become unknown', () => {
    const { agentId, samples } = parsePushedSamples({ agentId: 'a', samples: [{ ...good, pending: 4, rates: { requestsPerS: 'x', meanQueueMs: -1, meanComputeMs: 3 } }] });
    expect(agentId).to.equal('a');
    expect(samples[0]).to.deep.include({ model: 'm', arrivals: 10, pending: 4, reset: false });
    expect(samples[0]?.rates).to.deep.include({ windowMs: 1000, requestsPerS: 0, meanQueueMs: null, meanComputeMs: 3 });
  });
});
