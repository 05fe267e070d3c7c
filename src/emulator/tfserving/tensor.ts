// The emulated TF Serving's reading of a predict request's tensor: row ("instances") or columnar
// ("inputs") form, with TF's own checks and messages.
import { invalid } from './status.js';
import type { TfStatus } from './status.js';

/** The tensor of a predict request: its batch size, row or columnar form, and its values. */
export function readTensor(req: Record<string, unknown>): { batch: number; row: boolean; values: unknown } {
  const instances = req['instances'];
  const inputs = req['inputs'];
  const doc = JSON.stringify(req);
  if (instances !== undefined) {
    if (inputs !== undefined) throw invalid(`JSON Value: ${doc} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `);
    if (!Array.isArray(instances)) throw invalid(`JSON Value: ${doc} Excepting 'instances' to be an list/array`);
    if (instances.length === 0) throw invalid(`JSON Value: ${doc} No values in 'instances' array`);
    const objects = isObject(instances[0]);
    let first: { size: number; shape: number[] } | undefined;
    const values = instances.map((item, i) => {
      let value = item;
      if (objects) {
        if (!isObject(item)) throw invalid(`Expecting object but got list at item ${i} of input list`);
        const keys = Object.keys(item);
        if (keys.length !== 1 || keys[0] !== 'x') {
          throw invalid(`Failed to process element: ${i} of 'instances' list. JSON object: ${JSON.stringify(item)} keys must be equal to: x`);
        }
        value = item['x'];
      } else if (isObject(item)) {
        throw invalid(`Expecting value/list but got object at item ${i} of input list`);
      }
      const t = denseTensor(value, i);
      if (!first) first = t;
      else if (first.size !== t.size) {
        throw invalid(`Failed to process element: ${i} of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: ${first.size} but got: ${t.size}`);
      } else if (first.shape.join(',') !== t.shape.join(',')) {
        throw invalid(`Failed to process element: ${i} of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [${first.shape.join(',')}] but got: [${t.shape.join(',')}]`);
      }
      return value;
    });
    return { batch: instances.length, row: true, values };
  }
  if (inputs !== undefined) {
    let value: unknown = inputs;
    if (isObject(inputs)) {
      if (!('x' in inputs)) throw invalid("Missing named input: x in 'inputs' object.");
      value = inputs['x'];
    }
    const t = denseTensor(value, 0, false);
    return { batch: t.shape[0] ?? 1, row: false, values: value };
  }
  throw invalid("Missing 'inputs' or 'instances' key");
}

/** GetDenseTensorShape + FillTensorProto for a DT_FLOAT tensor, with TF's messages. */
function denseTensor(value: unknown, item: number, inInstances = true): { size: number; shape: number[] } {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  let size = 0;
  const wrap = (m: string): TfStatus => invalid(inInstances ? `Failed to process element: ${item} of 'instances' list. Error: INVALID_ARGUMENT: ${m}` : m);
  const fill = (v: unknown, level: number): void => {
    if (!Array.isArray(v)) {
      if (level !== shape.length) throw wrap(`JSON Value: ${JSON.stringify(v)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${shape.length}`);
      if (typeof v !== 'number') throw wrap(`JSON Value: ${JSON.stringify(v)} Type: ${jsonType(v)} is not of expected type: float`);
      size++;
      return;
    }
    if (level >= shape.length) throw wrap(`Encountered list at unexpected level: ${level} expected < ${shape.length}`);
    if (v.length !== shape[level]) throw wrap(`Encountered list at unexpected size: ${v.length} at level: ${level} expected size: ${shape[level]}`);
    for (const x of v) fill(x, level + 1);
  };
  fill(value, 0);
  return { size, shape };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'Null';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') return 'Number';
  return Array.isArray(v) ? 'Array' : 'Object';
}
