import { expect } from 'chai';
import { UnsupportedChangeError } from '../../../adapters/triton/errors.js';
import { buildInferRequest } from '../../../adapters/triton/infer-request.js';
import type { TensorSpec } from '../../../src/ports/server-adapter.js';

interface WireInput { name: string; shape: number[]; datatype: string; data?: unknown[]; parameters?: { binary_data_size: number } }
const inputsOf = (body: string, jsonLength?: number): WireInput[] =>
  (JSON.parse(jsonLength === undefined ? body : Buffer.from(body, 'utf8').subarray(0, jsonLength).toString('utf8')) as { inputs: WireInput[] }).inputs;

function half(bits: number, bf16: boolean): number {
  if (bf16) return new Float32Array(new Uint32Array([bits << 16]).buffer)[0] ?? NaN;
  const exp = (bits >> 10) & 0x1f;
  return (bits >> 15 ? -1 : 1) * (exp === 0 ? 2 ** -14 * ((bits & 0x3ff) / 1024) : 2 ** (exp - 15) * (1 + (bits & 0x3ff) / 1024));
}

describe('triton inference requests (§A.7)', () => {
  const shapes: { name: string; spec: TensorSpec; batchDim: boolean; batchSize: number; want: number[] }[] = [
    { name: 'batch dimension first', spec: { name: 'x', datatype: 'FP32', shape: [16] }, batchDim: true, batchSize: 4, want: [4, 16] },
    { name: 'variable dimensions become 1', spec: { name: 'x', datatype: 'INT64', shape: [-1, 3] }, batchDim: true, batchSize: 2, want: [2, 1, 3] },
    { name: 'no batch dimension (max_batch_size 0)', spec: { name: 'x', datatype: 'FP32', shape: [1, 3, 2, 2] }, batchDim: false, batchSize: 1, want: [1, 3, 2, 2] },
  ];
  for (const c of shapes) {
    it(`shape: ${c.name}`, () => {
      const [input] = inputsOf(buildInferRequest([c.spec], c.batchDim, { batchSize: c.batchSize, data: 'zero' }).body);
      expect(input?.shape).to.deep.equal(c.want);
      expect(input?.data).to.have.length(c.want.reduce((a, b) => a * b, 1));
    });
  }

  const kinds: { datatype: string; zero: unknown; check: (v: unknown) => boolean }[] = [
    { datatype: 'FP32', zero: 0, check: (v) => typeof v === 'number' && v >= 0 && v < 1 },
    { datatype: 'FP64', zero: 0, check: (v) => typeof v === 'number' && v >= 0 && v < 1 },
    { datatype: 'INT8', zero: 0, check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 100 },
    { datatype: 'UINT64', zero: 0, check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 100 },
    { datatype: 'BOOL', zero: false, check: (v) => typeof v === 'boolean' },
    { datatype: 'BYTES', zero: '', check: (v) => typeof v === 'string' && v.length > 0 },
  ];
  for (const k of kinds) {
    it(`data: ${k.datatype} zero and random`, () => {
      const spec: TensorSpec[] = [{ name: 'x', datatype: k.datatype, shape: [8] }];
      expect(inputsOf(buildInferRequest(spec, true, { batchSize: 2, data: 'zero' }).body)[0]?.data).to.deep.equal(Array(16).fill(k.zero));
      const random = inputsOf(buildInferRequest(spec, true, { batchSize: 2, data: 'random', seed: 9 }).body)[0]?.data ?? [];
      expect(random.every(k.check), JSON.stringify(random)).to.equal(true);
      expect(new Set(random.map(String)).size).to.be.above(1);
    });
  }

  it('random data is seeded, and one input\'s values do not depend on the others', () => {
    const a: TensorSpec = { name: 'a', datatype: 'FP32', shape: [4] };
    const b: TensorSpec = { name: 'b', datatype: 'INT32', shape: [4] };
    const one = buildInferRequest([a], true, { batchSize: 3, data: 'random', seed: 5 }).body;
    expect(buildInferRequest([a], true, { batchSize: 3, data: 'random', seed: 5 }).body).to.equal(one);
    expect(buildInferRequest([a], true, { batchSize: 3, data: 'random', seed: 6 }).body).to.not.equal(one);
    const both = inputsOf(buildInferRequest([b, a], true, { batchSize: 3, data: 'random', seed: 5 }).body);
    expect(both[1]?.data).to.deep.equal(inputsOf(one)[0]?.data);
  });

  it('asks for binary outputs and sends plain JSON when no input needs binary', () => {
    const req = buildInferRequest([{ name: 'x', datatype: 'FP32', shape: [2] }], true, { batchSize: 1, data: 'zero' });
    expect(req.jsonLength).to.equal(undefined);
    expect(JSON.parse(req.body)).to.deep.include({ parameters: { binary_data_output: true } });
  });

  for (const datatype of ['FP16', 'BF16']) {
    it(`${datatype} travels as binary after the JSON, every byte below 0x80 so UTF-8 keeps it`, () => {
      const specs: TensorSpec[] = [{ name: 'f', datatype: 'FP32', shape: [2] }, { name: 'h', datatype, shape: [-1, 5] }];
      const req = buildInferRequest(specs, true, { batchSize: 3, data: 'random', seed: 2 });
      const bytes = Buffer.from(req.body, 'utf8');
      expect(req.jsonLength).to.be.a('number');
      const n = 3 * 1 * 5;
      expect(bytes.length).to.equal((req.jsonLength ?? 0) + 2 * n);
      const inputs = inputsOf(req.body, req.jsonLength);
      expect(inputs[1]).to.deep.equal({ name: 'h', shape: [3, 1, 5], datatype, parameters: { binary_data_size: 2 * n } });
      expect(inputs[0]?.data).to.have.length(6);
      const tail = bytes.subarray(req.jsonLength);
      expect([...tail].every((b) => b < 0x80)).to.equal(true);
      const values = Array.from({ length: n }, (_, i) => half(tail.readUInt16LE(2 * i), datatype === 'BF16'));
      expect(values.every((v) => v >= 0.25 && v < 1), values.join()).to.equal(true);
      const zero = buildInferRequest(specs, true, { batchSize: 3, data: 'zero' });
      expect([...Buffer.from(zero.body, 'utf8').subarray(zero.jsonLength)]).to.deep.equal(Array(2 * n).fill(0));
    });
  }

  const refusals: { name: string; build: () => unknown; want: RegExp }[] = [
    { name: 'a batch for a model without a batch dimension', build: () => buildInferRequest([{ name: 'x', datatype: 'FP32', shape: [3] }], false, { batchSize: 2, data: 'zero' }), want: /does not batch/ },
    { name: 'batch size 0', build: () => buildInferRequest([{ name: 'x', datatype: 'FP32', shape: [3] }], true, { batchSize: 0, data: 'zero' }), want: /batch size/ },
    { name: 'an unknown datatype', build: () => buildInferRequest([{ name: 'x', datatype: 'COMPLEX64', shape: [3] }], true, { batchSize: 1, data: 'zero' }), want: /COMPLEX64/ },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}`, () => {
      expect(c.build).to.throw(UnsupportedChangeError, c.want);
    });
  }
});
