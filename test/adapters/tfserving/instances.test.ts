// Row-format predict instances for active profiling.
import { expect } from 'chai';
import { UnsupportedInputError, buildInstances } from '../../../adapters/tfserving/instances.js';
import type { InputSpec } from '../../../adapters/tfserving/parse.js';

const x: InputSpec = { name: 'x', dtype: 'DT_FLOAT', dims: [-1, 1] };

describe('adapters/tfserving/instances', () => {
  it('one input: bare tensors shaped without the batch dimension', () => {
    expect(buildInstances([x], 3, 'zero')).to.deep.equal([[0], [0], [0]]);
    expect(buildInstances([{ name: 'img', dtype: 'DT_UINT8', dims: [-1, 2, -1] }], 1, 'zero')).to.deep.equal([[[0], [0]]]);
  });

  it('several inputs: one object per instance, by input name; _bytes strings as base64', () => {
    const inputs: InputSpec[] = [x, { name: 'flag', dtype: 'DT_BOOL', dims: [-1] }, { name: 'image_bytes', dtype: 'DT_STRING', dims: [-1] }];
    expect(buildInstances(inputs, 2, 'zero')).to.deep.equal([{ x: [0], flag: false, image_bytes: { b64: '' } }, { x: [0], flag: false, image_bytes: { b64: '' } }]);
  });

  it('random data: the same seed gives the same body, another seed another', () => {
    const a = buildInstances([x, { name: 'ids', dtype: 'DT_INT64', dims: [-1, 4] }], 4, 'random', 7);
    expect(buildInstances([x, { name: 'ids', dtype: 'DT_INT64', dims: [-1, 4] }], 4, 'random', 7)).to.deep.equal(a);
    expect(buildInstances([x, { name: 'ids', dtype: 'DT_INT64', dims: [-1, 4] }], 4, 'random', 8)).to.not.deep.equal(a);
    const ids = a.flatMap((item) => (item as { ids: number[] }).ids);
    expect(ids.every((v) => Number.isInteger(v) && v >= 0 && v < 10)).to.equal(true);
  });

  const refused: { name: string; inputs: InputSpec[]; batch: number }[] = [
    { name: 'an unknown rank', inputs: [{ name: 'ex', dtype: 'DT_STRING', dims: undefined }], batch: 1 },
    { name: 'a dtype with no JSON form', inputs: [{ name: 'r', dtype: 'DT_RESOURCE', dims: [-1] }], batch: 1 },
    { name: 'no inputs', inputs: [], batch: 1 },
    { name: 'a batch too big to be a probe', inputs: [{ name: 'big', dtype: 'DT_FLOAT', dims: [-1, 4096, 4096] }], batch: 2 },
  ];
  for (const c of refused) it(`refuses ${c.name}`, () => expect(() => buildInstances(c.inputs, c.batch, 'zero')).to.throw(UnsupportedInputError));
});
