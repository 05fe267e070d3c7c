import { expect } from 'chai';
import { parseJsonLossless } from '../../../adapters/common/lossless-json.js';
import { loadRequestBody, stringifyLossless, withBatching, withInstanceCount } from '../../../adapters/triton/config-edit.js';
import { UnsupportedChangeError } from '../../../adapters/triton/errors.js';
import { parseModelConfig } from '../../../adapters/triton/parse.js';
import { fixture, fixtureJson } from './fixtures.js';

const mnist = () => parseModelConfig(fixture('config-mnist-cnn.json'));
const densenet = () => parseModelConfig(fixture('config-densenet-onnx.json'));
const configOf = (o: object) => parseModelConfig(JSON.stringify(o));

function refused(edit: () => unknown): string {
  try {
    edit();
  } catch (err) {
    expect(err).to.be.instanceOf(UnsupportedChangeError);
    return (err as Error).message;
  }
  throw new Error('expected the change to be refused');
}

describe('triton config edits (§A.12)', () => {
  it('writes a served config back byte for byte', () => {
    expect(stringifyLossless(mnist().raw)).to.equal(fixture('config-mnist-cnn.json').trim());
    expect(stringifyLossless(densenet().raw)).to.equal(fixture('config-densenet-onnx.json').trim());
  });

  it('writes integers beyond 2^53 exactly', () => {
    const text = '{"dynamic_batching":{"default_queue_policy":{"default_timeout_microseconds":18446744073709551615}},"x":[-9007199254740993,0.5]}';
    expect(stringifyLossless(parseJsonLossless(text))).to.equal(text);
  });

  it('wraps the config as a JSON string under parameters.config', () => {
    const body = loadRequestBody(mnist().raw);
    const wire = JSON.parse(JSON.stringify(body)) as { parameters: { config: string } };
    expect(wire.parameters.config).to.be.a('string');
    expect(JSON.parse(wire.parameters.config)).to.deep.equal(fixtureJson('config-mnist-cnn.json'));
  });

  const original = fixtureJson('config-mnist-cnn.json') as Record<string, unknown> & { instance_group: Record<string, unknown>[] };
  const group = original.instance_group[0] as Record<string, unknown>;
  const counts: { name: string; from: Record<string, unknown>; device?: 'cpu' | 'gpu'; replicas: number; want: Record<string, unknown>[] }[] = [
    { name: 'the count only', from: original, replicas: 4, want: [{ ...group, count: 4 }] },
    { name: 'the same device: the GPU list kept', from: original, device: 'gpu', replicas: 2, want: [{ ...group, count: 2 }] },
    { name: 'to CPU: kind, no GPUs, no host policy', from: original, device: 'cpu', replicas: 2, want: [{ ...group, count: 2, kind: 'KIND_CPU', gpus: [], host_policy: '' }] },
    { name: 'no group yet: one is made', from: { ...original, instance_group: [] }, device: 'gpu', replicas: 3, want: [{ count: 3, kind: 'KIND_GPU' }] },
    { name: 'no group and no device: the kind left to Triton', from: { name: 'm' }, replicas: 2, want: [{ count: 2 }] },
  ];
  for (const c of counts) {
    it(`withInstanceCount: ${c.name}, the rest as it was`, () => {
      const { instance_group: groups, ...rest } = withInstanceCount(configOf(c.from), c.replicas, c.device) as Record<string, unknown>;
      expect(groups).to.deep.equal(c.want);
      const { instance_group: _old, ...restBefore } = c.from;
      expect(rest).to.deep.equal(restBefore);
    });
  }

  it('withInstanceCount leaves the parsed config untouched', () => {
    const c = mnist();
    withInstanceCount(c, 5, 'cpu');
    expect(stringifyLossless(c.raw)).to.equal(fixture('config-mnist-cnn.json').trim());
  });

  const refusals: { name: string; edit: () => unknown; want: RegExp }[] = [
    { name: '0 replicas', edit: () => withInstanceCount(mnist(), 0), want: /at least one instance/ },
    { name: 'a fraction of a replica', edit: () => withInstanceCount(mnist(), 1.5), want: /whole number/ },
    { name: 'several instance groups', edit: () => withInstanceCount(configOf({ ...original, instance_group: [group, group] }), 2), want: /2 instance groups/ },
    { name: 'an ensemble', edit: () => withInstanceCount(configOf({ name: 'e', platform: 'ensemble', ensemble_scheduling: { step: [] } }), 2), want: /ensemble/ },
    { name: 'batching a model without a batch dimension', edit: () => withBatching(densenet(), { maxBatchSize: 8, batchDelayMs: 1 }), want: /max_batch_size 0/ },
    { name: 'batching a sequence model', edit: () => withBatching(configOf({ name: 's', max_batch_size: 4, sequence_batching: {} }), { maxBatchSize: 8, batchDelayMs: 1 }), want: /sequence scheduler/ },
    { name: 'a batch size of 0', edit: () => withBatching(mnist(), { maxBatchSize: 0, batchDelayMs: 1 }), want: /maxBatchSize/ },
    { name: 'a negative delay', edit: () => withBatching(mnist(), { maxBatchSize: 4, batchDelayMs: -1 }), want: /batchDelayMs/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}`, () => {
      expect(refused(c.edit)).to.match(c.want);
    });
  }

  it('withBatching: max_batch_size and the delay in whole microseconds; preferred sizes above the maximum dropped', () => {
    const edited = withBatching(mnist(), { maxBatchSize: 64, batchDelayMs: 0.2504 }) as Record<string, unknown>;
    expect(edited['max_batch_size']).to.equal(64);
    expect(edited['dynamic_batching']).to.deep.equal({ ...(original['dynamic_batching'] as object), preferred_batch_size: [50], max_queue_delay_microseconds: 250 });
    const smaller = withBatching(mnist(), { maxBatchSize: 8, batchDelayMs: 3 }) as { dynamic_batching: { preferred_batch_size: number[] } };
    expect(smaller.dynamic_batching.preferred_batch_size).to.deep.equal([]);
  });

  it('withBatching turns the dynamic batcher on for a model with the default scheduler', () => {
    const { dynamic_batching: _d, ...plain } = original;
    const edited = withBatching(configOf({ ...plain, max_batch_size: 4 }), { maxBatchSize: 8, batchDelayMs: 2 }) as Record<string, unknown>;
    expect(edited['dynamic_batching']).to.deep.equal({ max_queue_delay_microseconds: 2000 });
    expect(edited['max_batch_size']).to.equal(8);
  });
});
