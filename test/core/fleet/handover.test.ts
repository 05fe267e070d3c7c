import { expect } from 'chai';
import { keepRunning, mergeRunning, parseTrafficRecord, trafficIntervals, trafficRecordOf } from '../../../src/core/fleet/handover.js';
import type { RunningStage } from '../../../src/core/fleet/handover.js';
import type { StageConfig } from '../../../src/core/model/types.js';

describe('core/fleet/handover', function () {
  const planned: Record<string, StageConfig> = {
    pre: { hardware: 'cpu', batchSize: 4, replicas: 1 },
    cls: { hardware: 'gpu', batchSize: 8, replicas: 2, batchDelayMs: 2 },
  };
  const cases: { name: string; running: Record<string, RunningStage>; want: { stages: Record<string, StageConfig>; desired: Record<string, number>; kept: string[] } }[] = [
    {
      name: 'nothing running: the plan as it is',
      running: {},
      want: { stages: planned, desired: { pre: 1, cls: 2 }, kept: [] },
    },
    {
      name: 'more replicas running: a floor; fewer: the plan\'s',
      running: { pre: { hardware: 'cpu', replicas: 3, batchSize: 4 }, cls: { hardware: 'gpu', replicas: 1, batchSize: 8, batchDelayMs: 2 } },
      want: { stages: planned, desired: { pre: 3, cls: 2 }, kept: ['pre replicas 3/1'] },
    },
    {
      name: 'another batch size and delay running: kept',
      running: { cls: { hardware: 'gpu', replicas: 2, batchSize: 4, batchDelayMs: 0 } },
      want: {
        stages: { pre: planned['pre'] as StageConfig, cls: { hardware: 'gpu', batchSize: 4, replicas: 2, batchDelayMs: 0 } },
        desired: { pre: 1, cls: 2 }, kept: ['cls batchSize 4/8', 'cls batchDelayMs 0/2'],
      },
    },
    {
      name: 'running on other hardware: nothing kept (the plan moved the stage)',
      running: { cls: { hardware: 'cpu', replicas: 5, batchSize: 1 } },
      want: { stages: planned, desired: { pre: 1, cls: 2 }, kept: [] },
    },
  ];
  for (const c of cases) {
    it(`keepRunning: ${c.name}`, function () {
      const got = keepRunning(planned, { pre: 1, cls: 2 }, new Map(Object.entries(c.running)));
      expect(got.stages).to.deep.equal(c.want.stages);
      expect(got.desired).to.deep.equal(c.want.desired);
      expect(got.kept.map((k) => `${k.stage} ${k.setting} ${k.running}/${k.planned}`)).to.deep.equal(c.want.kept);
    });
  }

  it('the stored traffic comes back on the reader\'s clock, ending at its now, with the same counts', function () {
    // 10 s at 100 q/s in 500 ms intervals, on a leader clock ending at 50 000.
    const recent = Array.from({ length: 20 }, (_, i) => ({ fromMs: 40_000 + i * 500, toMs: 40_500 + i * 500, count: 50 }));
    const record = trafficRecordOf(new Map([['images', recent]]), 50_000, 1_700_000_000_000);
    const parsed = parseTrafficRecord(JSON.parse(JSON.stringify(record)));
    expect(parsed.problem).to.equal(undefined);
    const back = trafficIntervals(parsed.record as never, 'images', 7_000, 300_000);
    expect(back.at(-1)?.toMs).to.equal(7_000);
    expect(back[0]?.fromMs).to.equal(-3_000);
    expect(back.reduce((s, iv) => s + iv.count, 0)).to.be.closeTo(1000, 1e-6);
    expect(trafficIntervals(parsed.record as never, 'images', 7_000, 4_000).length).to.equal(4);
    expect(trafficIntervals(parsed.record as never, 'other', 7_000, 300_000)).to.deep.equal([]);
  });

  const bad: { name: string; given: unknown }[] = [
    { name: 'not an object', given: [1, 2] },
    { name: 'no time', given: { pipelines: {} } },
    { name: 'an interval in the future', given: { atWallMs: 1, pipelines: { images: [[-1000, 500, 3]] } } },
    { name: 'a negative count', given: { atWallMs: 1, pipelines: { images: [[-1000, 0, -3]] } } },
    { name: 'a string', given: { atWallMs: 1, pipelines: { images: [[-1000, 0, '3']] } } },
    { name: 'an empty interval', given: { atWallMs: 1, pipelines: { images: [[-1000, -1000, 3]] } } },
  ];
  for (const b of bad) {
    it(`parseTrafficRecord refuses ${b.name}`, function () {
      const got = parseTrafficRecord(b.given);
      expect(got.record).to.equal(undefined);
      expect(got.problem).to.be.a('string');
    });
  }

  it('mergeRunning: the larger replicas on the same hardware; the members\' batch; stored-only stages added', function () {
    const fromRecords = new Map<string, RunningStage>([['p\u0000a', { hardware: 'gpu', replicas: 2, batchSize: 8 }], ['p\u0000b', { hardware: 'cpu', replicas: 3 }]]);
    const stored = new Map<string, RunningStage>([
      ['p\u0000a', { hardware: 'gpu', replicas: 5, batchSize: 4 }], ['p\u0000b', { hardware: 'gpu', replicas: 9 }], ['p\u0000c', { hardware: 'cpu', replicas: 4, batchSize: 2 }],
    ]);
    expect(Object.fromEntries(mergeRunning(fromRecords, stored))).to.deep.equal({
      'p\u0000a': { hardware: 'gpu', replicas: 5, batchSize: 8 },
      'p\u0000b': { hardware: 'cpu', replicas: 3 },
      'p\u0000c': { hardware: 'cpu', replicas: 4, batchSize: 2 },
    });
  });

  it('the stored stages round-trip, and bad ones are refused', function () {
    const stages = { images: { cls: { hardware: 'gpu', replicas: 6, batchSize: 4, batchDelayMs: 2 } } };
    expect(parseTrafficRecord(JSON.parse(JSON.stringify(trafficRecordOf(new Map(), 0, 5, stages)))).record?.stages).to.deep.equal(stages);
    for (const bad of [{ cls: { hardware: 'gpu', replicas: -1 } }, { cls: { hardware: 3, replicas: 1 } }, { cls: { hardware: 'gpu', replicas: 1, batchSize: 0 } }, { cls: { hardware: 'gpu', replicas: 1e9 } }]) {
      expect(parseTrafficRecord({ atWallMs: 1, pipelines: {}, stages: { images: bad } }).problem).to.be.a('string');
    }
  });
});
