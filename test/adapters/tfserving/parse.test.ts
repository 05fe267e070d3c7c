// TF Serving wire → domain, on the recorded bodies of server-apis.md F11 (copied byte for byte into
// fixtures/), the metadata file the reference names in C.2 (tensorflow_serving/servables/tensorflow/
// testdata/saved_model_half_plus_two_2_versions_metadata.json), the exporter's own expected output
// (util/prometheus_exporter_test.cc), and a page constructed to the exporter's rules (fixtures/metrics.txt).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { describeBody } from '../../../adapters/common/http.js';
import {
  MalformedBodyError, parseModelMetadata, parseModelStatus, parsePredictResponse, servingVersion, toTensorSpec,
} from '../../../adapters/tfserving/parse.js';
import { countersFromMetrics, latencySource, parseTfMetrics } from '../../../adapters/tfserving/parse-metrics.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('adapters/tfserving/parse', () => {
  describe('model status (F11)', () => {
    it('reads the recorded body; the version stays a string', () => {
      const statuses = parseModelStatus(fixture('status.json'));
      expect(statuses).to.deep.equal([{ version: '123', state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }]);
      expect(servingVersion(statuses)).to.equal('123');
    });

    it('serves the highest AVAILABLE version, compared as integers, beyond 2^53 too', () => {
      const body = JSON.stringify({
        model_version_status: [
          { version: '9', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
          { version: '10', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
          { version: '9007199254740993', state: 'LOADING', status: { error_code: 'OK', error_message: '' } },
        ],
      });
      expect(servingVersion(parseModelStatus(body))).to.equal('10');
      const big = body.replace('"LOADING"', '"AVAILABLE"');
      expect(servingVersion(parseModelStatus(big))).to.equal('9007199254740993');
    });

    it('has no serving version while loading or after END', () => {
      const body = '{"model_version_status":[{"version":"2","state":"LOADING"},{"version":"1","state":"END","status":{"error_code":"CANCELLED","error_message":"unloaded"}}]}';
      const s = parseModelStatus(body);
      expect(servingVersion(s)).to.equal(undefined);
      expect(s[0]?.errorCode).to.equal('OK'); // proto3 leaves a default status out
      expect(s[1]?.errorCode).to.equal('CANCELLED');
    });

    const status = fixture('status.json');
    const malformed: { name: string; given: string }[] = [
      { name: 'truncated', given: status.slice(0, status.length / 2) },
      { name: 'version as a JSON number', given: status.replace('"123"', '123') },
      { name: 'version not an integer', given: status.replace('"123"', '"12a"') },
      { name: 'negative version', given: status.replace('"123"', '"-1"') },
      { name: 'unknown state', given: status.replace('AVAILABLE', 'READY') },
      { name: 'state missing', given: status.replace('"state": "AVAILABLE",', '') },
      { name: 'the error body (F11)', given: fixture('error-404.json') },
      { name: 'an HTML page', given: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
      { name: 'model_version_status not an array', given: '{"model_version_status": {}}' },
      { name: 'empty', given: '' },
    ];
    for (const c of malformed) it(`refuses ${c.name}`, () => expect(() => parseModelStatus(c.given)).to.throw(MalformedBodyError));
  });

  it('the error body (F11) gives its message to AdapterErrors', () => {
    expect(describeBody({ body: fixture('error-404.json'), headers: {} })).to.equal('Servable not found for request: Latest(half)');
  });

  describe('model metadata (C.2)', () => {
    const metadata = fixture('metadata-half-plus-two.json');

    it('reads every signature; sizes arrive as strings, -1 for the batch', () => {
      const sigs = parseModelMetadata(metadata);
      expect([...sigs.keys()].sort()).to.deep.equal(['classify_x2_to_y3', 'classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
      const def = sigs.get('serving_default');
      expect(def).to.deep.equal({ methodName: 'tensorflow/serving/predict', inputs: [{ name: 'x', dtype: 'DT_FLOAT', dims: [-1, 1] }] });
      expect(def?.inputs.map(toTensorSpec)).to.deep.equal([{ name: 'x', datatype: 'DT_FLOAT', shape: [1] }]);
    });

    it('marks an unknown rank, shown to the port as one variable dimension', () => {
      const input = parseModelMetadata(metadata).get('classify_x_to_y')?.inputs[0];
      expect(input).to.deep.equal({ name: 'inputs', dtype: 'DT_STRING', dims: undefined });
      expect(input && toTensorSpec(input).shape).to.deep.equal([-1]);
    });

    const malformed: { name: string; given: string }[] = [
      { name: 'a size as a JSON number', given: metadata.replace('"size": "-1"', '"size": -1') },
      { name: 'a size that is not an integer', given: metadata.replace('"size": "1"', '"size": "one"') },
      { name: 'a size below -1', given: metadata.replace('"size": "1"', '"size": "-2"') },
      { name: 'a size beyond 2^53', given: metadata.replace('"size": "1"', '"size": "9007199254740993"') },
      { name: 'a dtype that is not a TF dtype', given: metadata.replace('"DT_FLOAT"', '"float32"') },
      { name: 'no metadata', given: '{"model_spec": {"name": "m"}}' },
      { name: 'truncated', given: metadata.slice(0, 1000) },
    ];
    for (const c of malformed) it(`refuses ${c.name}`, () => expect(() => parseModelMetadata(c.given)).to.throw(MalformedBodyError));
  });

  describe('predict (F11)', () => {
    it('counts the recorded predictions', () => expect(parsePredictResponse(fixture('predict.json'))).to.deep.equal({ predictions: 3 }));

    it('accepts bare NaN and ±Infinity, as TF Serving writes them', () => {
      expect(parsePredictResponse('{"predictions": [[NaN], [Infinity], [-Infinity], [0.5]]}')).to.deep.equal({ predictions: 4 });
    });

    const malformed: { name: string; given: string }[] = [
      { name: 'predictions not an array', given: '{"predictions": 3.5}' },
      { name: 'a regress body', given: '{\n    "results": [3.5, 4.0]\n}\n' },
      { name: 'truncated', given: '{"predictions": [3.5, 4.0' },
      { name: 'an HTML page', given: '<!DOCTYPE html><html></html>' },
    ];
    for (const c of malformed) it(`refuses ${c.name}`, () => expect(() => parsePredictResponse(c.given)).to.throw(MalformedBodyError));
  });

  describe('Prometheus page (C.3)', () => {
    it("reads the exporter's own expected histogram (prometheus_exporter_test.cc)", () => {
      const page = [
        '# TYPE :test:path:histogram histogram',
        ...[1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((le, i) => `:test:path:histogram_bucket{status="good",le="${le}"} ${[0, 0, 1, 1, 1, 2, 2, 2, 3, 3][i]}`),
        ':test:path:histogram_bucket{status="good",le="+Inf"} 3',
        ':test:path:histogram_sum{status="good"} 222',
        ':test:path:histogram_count{status="good"} 3',
      ].join('\n') + '\n';
      const m = parseTfMetrics(page);
      expect(m.types.get(':test:path:histogram')).to.equal('histogram');
      expect(m.samples.find((s) => s.name === ':test:path:histogram_sum')).to.deep.equal({ name: ':test:path:histogram_sum', labels: { status: 'good' }, value: 222 });
    });

    it('reads names starting with ":", no HELP, {} labels and exponent-form le', () => {
      const m = parseTfMetrics(fixture('metrics.txt'));
      expect(m.samples.find((s) => s.name === ':tensorflow:core:graph_runs')).to.deep.equal({ name: ':tensorflow:core:graph_runs', labels: {}, value: 12 });
      expect(m.samples.some((s) => s.labels['le'] === '1.27482e+06')).to.equal(true);
      expect(m.samples.find((s) => s.name === ':tensorflow:serving:request_latency_sum')?.value).to.equal(1245690);
    });

    const page = fixture('metrics.txt');
    const ok = ':tensorflow:serving:request_count{model_name="half_plus_two",status="OK"} 15';
    const malformed: { name: string; given: string }[] = [
      { name: 'a negative counter', given: page.replace(ok, ok.replace(' 15', ' -15')) },
      { name: 'a counter beyond 2^53', given: page.replace(ok, ok.replace(' 15', ' 9007199254740993')) },
      { name: 'a fractional counter', given: page.replace(ok, ok.replace(' 15', ' 1.5')) },
      { name: 'a histogram count that is negative', given: page.replace('input_batch_size_count{} 7', 'input_batch_size_count{} -7') },
      { name: 'a bucket with a bad le', given: page.replace('le="+Inf"', 'le="lots"') },
      { name: 'a non-finite sum', given: page.replace('runtime_latency_sum{model_name="half_plus_two",API="Predict",runtime="TF1"} 2496', 'runtime_latency_sum{model_name="half_plus_two",API="Predict",runtime="TF1"} NaN') },
      { name: 'a truncated line', given: page.slice(0, page.indexOf(ok) + 40) },
      { name: 'an HTML page', given: '<html><head><title>404 Not Found</title></head></html>' },
    ];
    for (const c of malformed) it(`refuses ${c.name}`, () => expect(() => parseTfMetrics(c.given)).to.throw(MalformedBodyError));
  });

  describe('counters from the page', () => {
    const m = parseTfMetrics(fixture('metrics.txt'));

    it('one served model: inference successes, failures, runtime, and the server-wide batching metrics', () => {
      expect(countersFromMetrics(m, ['half_plus_two'], ['half_plus_two'])).to.deep.equal([{
        model: 'half_plus_two',
        requests: 13n, // request_latency_count; request_count OK (15) also counts status calls
        failures: 2n, // INVALID_ARGUMENT; the NOT_FOUND belongs to the name "half"
        computeNs: 2_496_000n,
        executions: 7n,
        queueNs: 6_318_000n,
      }]);
    });

    it('several models: batching metrics have no model label, so none is attributed', () => {
      expect(countersFromMetrics(m, ['half_plus_two'], ['half_plus_two', 'other'])).to.deep.equal([
        { model: 'half_plus_two', requests: 13n, failures: 2n, computeNs: 2_496_000n },
      ]);
    });

    it('a model the scrape has not seen yet counts zero', () => {
      expect(countersFromMetrics(m, ['other'], ['half_plus_two', 'other'])).to.deep.equal([{ model: 'other', requests: 0n, failures: 0n, computeNs: 0n }]);
    });

    it('falls back to request_count OK when the server has no request_latency family', () => {
      const page = '# TYPE :tensorflow:serving:request_count counter\n'
        + ':tensorflow:serving:request_count{model_name="m",status="OK"} 4\n'
        + ':tensorflow:serving:request_count{model_name="m",status="NOT_FOUND"} 1\n';
      expect(countersFromMetrics(parseTfMetrics(page), ['m'], ['m'])).to.deep.equal([{ model: 'm', requests: 4n, failures: 1n }]);
    });

    it('derives the latency from request_latency when the server exports no runtime_latency (older or differently built servers)', () => {
      const page = fixture('metrics.txt').split('\n').filter((l) => !l.includes(':tensorflow:serving:runtime_latency')).join('\n');
      const parsed = parseTfMetrics(page);
      expect(latencySource(parsed)).to.equal('request_latency');
      expect(latencySource(m)).to.equal('runtime_latency');
      const [c] = countersFromMetrics(parsed, ['half_plus_two'], ['half_plus_two']);
      // request_latency_sum 1.24569e+06 µs over 13 requests, in ns.
      expect(c?.computeNs).to.equal(1_245_690_000n);
      expect(c?.requests).to.equal(13n);
    });

    it('reports no latency when the page has neither latency family', () => {
      const page = fixture('metrics.txt').split('\n').filter((l) => !/:tensorflow:serving:(runtime|request)_latency/.test(l)).join('\n');
      const parsed = parseTfMetrics(page);
      expect(latencySource(parsed)).to.equal(undefined);
      expect(countersFromMetrics(parsed, ['half_plus_two'], ['half_plus_two'])[0]).to.not.have.property('computeNs');
    });

    it('refuses a negative latency sum', () => {
      const page = fixture('metrics.txt').replace('runtime="TF1"} 2496', 'runtime="TF1"} -2496');
      expect(() => countersFromMetrics(parseTfMetrics(page), ['half_plus_two'], ['half_plus_two'])).to.throw(MalformedBodyError);
    });
  });
});
