import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import {
  countersFromMetrics, decode, isInvalidKey, isLogModeMetrics, isUrlRequired, nsFromMicros, parseDescribe, parseErrorBody,
  parseKeyFile, parseMetrics, parseModelList, parseStatusMessage, registeredVersionOf, toModelStatus, TorchServeWireError,
} from '../../../adapters/torchserve/parse.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('adapters/torchserve/parse', () => {
  describe('describe → ModelStatus', () => {
    const cases = [
      {
        name: 'F5, the documented CPU worker (older format with engine)',
        given: 'f5-describe-noop.json',
        want: { model: 'noop', version: '1.0', ready: true, replicas: 1, device: 'cpu', maxBatchSize: 1, batchDelayMs: 100 },
      },
      {
        name: 'recorded from TorchServe 0.12.0 after a version swap and a scale to 3',
        given: 'real-describe-sleepy.json',
        want: { model: 'sleepy', version: '2.0', ready: true, replicas: 3, device: 'cpu', maxBatchSize: 8, batchDelayMs: 5 },
      },
    ];
    for (const c of cases) it(c.name, () => expect(toModelStatus(parseDescribe(fixture(c.given))[0] as never)).to.deep.equal(c.want));

    it('keeps what the version swap needs: the archive, timeouts and queue depth', () => {
      const [d] = parseDescribe(fixture('real-describe-sleepy.json'));
      expect(d).to.include({ modelUrl: 'sleepy_v2.mar', responseTimeout: 120, startupTimeout: 120, pendingRequests: 0, deviceType: 'cpu' });
      expect(parseDescribe(fixture('f5-describe-noop.json'))[0]).to.include({ modelUrl: 'noop.mar', responseTimeout: undefined });
    });

    const worker = (over: Record<string, unknown>): string => JSON.stringify([{
      modelName: 'm', modelVersion: '1', modelUrl: 'm.mar', minWorkers: 2, maxWorkers: 2, batchSize: 4, maxBatchDelay: 10, deviceType: 'gpu',
      workers: [{ id: '9000', status: 'UNLOADING', gpu: false }, { id: '9001', status: 'READY', gpu: false }], ...over,
    }]);
    const statusCases: { name: string; given: string; want: Record<string, unknown> }[] = [
      { name: 'a starting worker (UNLOADING) counts as a replica; one READY makes it ready', given: worker({}), want: { replicas: 2, ready: true, device: 'cpu' } },
      { name: 'a GPU worker makes it gpu', given: worker({ workers: [{ id: '9000', status: 'READY', gpu: true }] }), want: { replicas: 1, device: 'gpu' } },
      { name: 'no worker: not ready, device from deviceType', given: worker({ workers: [] }), want: { replicas: 0, ready: false, device: 'gpu' } },
      { name: 'no worker and no deviceType: unknown', given: worker({ workers: [], deviceType: undefined }), want: { device: 'unknown' } },
    ];
    for (const c of statusCases) it(c.name, () => expect(toModelStatus(parseDescribe(c.given)[0] as never)).to.include(c.want));
  });

  describe('status, list and error bodies', () => {
    const statuses = [
      { given: 'f7-register-no-workers.json', want: 'Model "squeezenet_v1.1" Version: 1.0 registered with 0 initial workers. Use scale workers API to add workers for the model.', version: '1.0' },
      { given: 'f7-async.json', want: 'Processing worker updates...', version: undefined },
      { given: 'f7-scaled.json', want: 'Workers scaled to 3 for model: noop', version: undefined },
      { given: 'f7-scaled-version.json', want: 'Workers scaled to 3 for model: noop, version: 2.0', version: undefined },
      { given: 'real-register-v2.json', want: 'Model "sleepy" Version: 2.0 registered with 1 initial workers', version: '2.0' },
    ];
    for (const c of statuses) {
      it(`${c.given}: the status text, and the registered version if any`, () => {
        const text = parseStatusMessage(fixture(c.given));
        expect(text).to.equal(c.want);
        expect(registeredVersionOf(text)).to.equal(c.version);
      });
    }

    it('reads a list page with its next-page token', () => {
      expect(parseModelList(fixture('real-list-page.json'))).to.deep.equal({ models: [{ modelName: 'sleepy', modelUrl: 'sleepy_v2.mar' }], nextPageToken: '1' });
      expect(parseModelList('{"models": []}')).to.deep.equal({ models: [], nextPageToken: undefined });
    });

    const errors = [
      { given: 'b2-invalid-key.json', status: 400, invalidKey: true, urlRequired: false, type: 'InvalidKeyException' },
      { given: 'real-400-url-required.json', status: 400, invalidKey: false, urlRequired: true, type: 'BadRequestException' },
      { given: 'b4-model-not-found.json', status: 404, invalidKey: false, urlRequired: false, type: 'ModelNotFoundException' },
      { given: 'real-405-model-api-off.json', status: 405, invalidKey: false, urlRequired: false, type: 'MethodNotAllowedException' },
      { given: 'real-409-version-registered.json', status: 409, invalidKey: false, urlRequired: false, type: 'ConflictStatusException' },
      { given: 'real-403-remove-default.json', status: 403, invalidKey: false, urlRequired: false, type: 'InvalidModelVersionException' },
    ];
    for (const c of errors) {
      it(`${c.given}: ${c.type}; a refused key only when it is InvalidKeyException`, () => {
        const body = fixture(c.given);
        expect(parseErrorBody(body)?.type).to.equal(c.type);
        expect(isInvalidKey(c.status, body)).to.equal(c.invalidKey);
        expect(isUrlRequired(c.status, body)).to.equal(c.urlRequired);
      });
    }
    it('an error body that is not ErrorResponse-shaped is not an error body', () => {
      expect(parseErrorBody('<html><body>502 Bad Gateway</body></html>')).to.equal(undefined);
      expect(isInvalidKey(400, '')).to.equal(false);
    });
  });

  describe('key_file.json', () => {
    it('F9, stray indent and all', () => {
      expect(parseKeyFile(fixture('f9-key-file.json'))).to.deep.equal({ management: 'B-E5KSRM', inference: 'gNRuA7dS', api: 'yv9uQajP' });
    });
  });

  describe('metrics → counters', () => {
    it('F10: requests, queue and compute time of resnet18 in exact nanoseconds', () => {
      const samples = parseMetrics(fixture('f10-latency-filtered.txt') + fixture('f10-requests.txt'));
      expect(countersFromMetrics(samples)).to.deep.equal([{
        model: 'resnet18', requests: 3n, failures: 0n, queueNs: 365_210n, computeNs: 290_371_129n - 365_210n,
      }]);
    });

    it('recorded 0.12.0 text: sums the "default" and "2.0" series, ignores host-wide metrics', () => {
      const samples = parseMetrics(fixture('real-metrics.txt'));
      // 5477.656 + 16129.311000000002 µs queued; 15621.999 + 50521.812 µs end to end.
      expect(countersFromMetrics(samples)).to.deep.equal([{
        model: 'sleepy', requests: 4n, failures: 0n, queueNs: 21_606_967n, computeNs: 66_143_811n - 21_606_967n,
      }]);
    });

    it('filters by model, and gives zeros for a model with no traffic yet', () => {
      const samples = parseMetrics(fixture('real-metrics.txt'));
      expect(countersFromMetrics(samples, 'sleepy')).to.have.length(1);
      expect(countersFromMetrics(samples, 'idle')).to.deep.equal([{ model: 'idle', requests: 0n, failures: 0n, queueNs: 0n, computeNs: 0n }]);
    });

    it('an empty body is metrics_mode=log; HELP/TYPE lines alone are not', () => {
      expect(isLogModeMetrics('')).to.equal(true);
      expect(isLogModeMetrics('\n')).to.equal(true);
      expect(isLogModeMetrics('# HELP ts_inference_requests_total x\n# TYPE ts_inference_requests_total counter\n')).to.equal(false);
    });

    const ns = [
      { us: 0, want: 0n }, { us: 365.21, want: 365_210n }, { us: 16129.311000000002, want: 16_129_311n }, { us: 1e-4, want: 0n }, { us: 2 ** 53, want: 2n ** 53n * 1000n },
    ];
    for (const c of ns) it(`nsFromMicros(${c.us}) = ${c.want}`, () => expect(nsFromMicros(c.us)).to.equal(c.want));
  });

  describe('rejects malformed bodies with a typed error', () => {
    const describeBody = fixture('f5-describe-noop.json');
    const series = (value: string, name = 'ts_inference_requests_total'): string => `${name}{model_name="m",model_version="default",hostname="h",} ${value}\n`;
    const cases: { name: string; parse: () => unknown; match: RegExp }[] = [
      { name: 'truncated describe', parse: () => parseDescribe(describeBody.slice(0, 200)), match: /describe: not JSON/ },
      { name: 'an HTML error page', parse: () => parseDescribe('<html><body><h1>502 Bad Gateway</h1></body></html>'), match: /HTML page/ },
      { name: 'describe as an object, not an array', parse: () => parseDescribe('{"modelName": "m"}'), match: /expected an array/ },
      { name: 'describe, empty array', parse: () => parseDescribe('[]'), match: /empty array/ },
      { name: 'batchSize as a string', parse: () => parseDescribe(describeBody.replace('"batchSize": 1', '"batchSize": "1"')), match: /\[0\]\.batchSize: expected an integer, got the string "1"/ },
      { name: 'batchSize 0', parse: () => parseDescribe(describeBody.replace('"batchSize": 1', '"batchSize": 0')), match: /batchSize: 0 is below 1/ },
      { name: 'negative maxBatchDelay', parse: () => parseDescribe(describeBody.replace('"maxBatchDelay": 100', '"maxBatchDelay": -1')), match: /maxBatchDelay: -1 is below 0/ },
      { name: 'fractional minWorkers', parse: () => parseDescribe(describeBody.replace('"minWorkers": 1', '"minWorkers": 1.5')), match: /minWorkers: expected an integer/ },
      { name: 'memoryUsage above 2^53', parse: () => parseDescribe(describeBody.replace('89247744', '9007199254740993')), match: /memoryUsage: 9007199254740993 is above 2\^53/ },
      { name: 'gpu as a string', parse: () => parseDescribe(describeBody.replace('"gpu": false', '"gpu": "false"')), match: /workers\[0\]\.gpu: expected a boolean/ },
      { name: 'workers missing', parse: () => parseDescribe('[{"modelName":"m","modelVersion":"1","modelUrl":"m.mar","minWorkers":1,"maxWorkers":1,"batchSize":1,"maxBatchDelay":1}]'), match: /workers: expected an array/ },
      { name: 'a status body without status', parse: () => parseStatusMessage('{"message": "x"}'), match: /status: expected a string/ },
      { name: 'a list whose models is not an array', parse: () => parseModelList('{"models": {}}'), match: /models: expected an array/ },
      { name: 'a key file with none of the keys', parse: () => parseKeyFile('{"other": {"key": "x"}}'), match: /none of/ },
      { name: 'a key with blanks', parse: () => parseKeyFile('{"management": {"key": "a b"}}'), match: /management\.key: empty or contains blanks/ },
      { name: 'a truncated key file', parse: () => parseKeyFile(fixture('f9-key-file.json').slice(0, 60)), match: /key file: not JSON/ },
      { name: 'a negative counter', parse: () => countersFromMetrics(parseMetrics(series('-1.0'))), match: /-1 is not a counter value/ },
      { name: 'a counter above 2^53', parse: () => countersFromMetrics(parseMetrics(series('1.0E16'))), match: /above 2\^53/ },
      { name: 'a NaN counter', parse: () => countersFromMetrics(parseMetrics(series('NaN', 'ts_queue_latency_microseconds'))), match: /not a counter value/ },
      { name: 'a fractional request count', parse: () => countersFromMetrics(parseMetrics(series('2.5'))), match: /not whole/ },
      { name: 'a series without model_name', parse: () => countersFromMetrics(parseMetrics('ts_inference_requests_total{hostname="h",} 1.0\n')), match: /without model_name/ },
      { name: 'metrics text that is not Prometheus', parse: () => parseMetrics('<html>oops</html>'), match: /metrics: line 1/ },
    ];
    for (const c of cases) it(c.name, () => expect(c.parse).to.throw(TorchServeWireError, c.match));

    it('decode() turns a wire error into AdapterError malformed naming the endpoint and status', () => {
      const res = { status: 200, body: '<html>proxy login</html>', endpoint: 'GET /models/noop' };
      expect(() => decode(res, parseDescribe)).to.throw(AdapterError).that.satisfies((e: AdapterError) =>
        e.kind === 'malformed' && e.server === 'torchserve' && e.endpoint === 'GET /models/noop' && e.status === 200 && /HTML page/.test(e.message));
    });
  });
});
