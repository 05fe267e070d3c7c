// Placement carries the plan's batching to every agent serving a stage: batch size and batch delay.
import { expect } from 'chai';
import { placeReplicas } from '../../../src/core/fleet/placement.js';

describe('core/fleet/placement: batching in the desired state', () => {
  const members = [
    { agentId: 'n1', hardware: 'gpu', models: ['m'], capacity: 2 },
    { agentId: 'n2', hardware: 'gpu', models: ['m', 'k'], capacity: 2 },
  ];
  const cases: { name: string; delays: (number | undefined)[]; want: number | undefined }[] = [
    { name: 'no delay in the plan: none in the spec (the server keeps its own)', delays: [undefined], want: undefined },
    { name: 'the plan\'s delay reaches every agent serving the model', delays: [2.5], want: 2.5 },
    { name: 'two stages on one model: the shorter delay wins', delays: [4, 1], want: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const demands = c.delays.map((d, i) => ({
        pipeline: 'p', stage: `s${i}`, model: 'm', hardware: 'gpu', replicas: 1, batchSize: 8, ...(d !== undefined ? { batchDelayMs: d } : {}),
      }));
      const placed = placeReplicas(demands, members);
      for (const agent of ['n1', 'n2']) {
        const spec = placed.perAgent[agent]?.find((m) => m.model === 'm');
        expect(spec?.maxBatchSize).to.equal(8);
        expect(spec?.batchDelayMs).to.equal(c.want);
      }
    });
  }
});
