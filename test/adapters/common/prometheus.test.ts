import { expect } from 'chai';
import { parsePrometheusText, PrometheusSyntaxError, sumBy } from '../../../adapters/common/prometheus.js';

describe('adapters/common/prometheus', () => {
  it('reads TorchServe text: labels ending with a comma, HELP and TYPE lines', () => {
    const text = [
      '# HELP ts_inference_requests_total Torchserve prometheus counter metric with unit: Count',
      '# TYPE ts_inference_requests_total counter',
      'ts_inference_requests_total{uuid="e2c2",model_name="noop",model_version="default",} 3.0',
    ].join('\n');
    expect(parsePrometheusText(text)).to.deep.equal([
      { name: 'ts_inference_requests_total', labels: { uuid: 'e2c2', model_name: 'noop', model_version: 'default' }, value: 3 },
    ]);
  });

  it('reads TF Serving text: names starting with ":", no HELP, exponent le, empty braces', () => {
    const text = [
      '# TYPE :tensorflow:serving:request_count counter',
      ':tensorflow:serving:request_count{model_name="half_plus_two",status="OK"} 42',
      ':tensorflow:serving:batching_session:queuing_latency_bucket{le="1.0e+03"} 7',
      ':tensorflow:core:graph_runs{} 5',
    ].join('\n');
    const s = parsePrometheusText(text);
    expect(s.map((x) => x.name)).to.deep.equal([':tensorflow:serving:request_count', ':tensorflow:serving:batching_session:queuing_latency_bucket', ':tensorflow:core:graph_runs']);
    expect(s[1]?.labels).to.deep.equal({ le: '1.0e+03' });
    expect(s[2]?.labels).to.deep.equal({});
  });

  it('reads special values, escapes and timestamps', () => {
    const s = parsePrometheusText('a NaN\nb +Inf\nc{x="q\\"uote\\\\"} -Inf 1712345678000\nd 1.5e-3\n');
    expect(s.map((x) => x.value)).to.deep.equal([Number.NaN, Infinity, -Infinity, 0.0015]);
    expect(s[2]?.labels['x']).to.equal('q"uote\\');
  });

  it('sums series across a label (Triton gpu_uuid)', () => {
    const s = parsePrometheusText([
      'nv_inference_count{model="m",version="1",gpu_uuid="GPU-a"} 10',
      'nv_inference_count{model="m",version="1",gpu_uuid="GPU-b"} 5',
      'nv_inference_count{model="n",version="1",gpu_uuid="GPU-a"} 1',
    ].join('\n'));
    expect(sumBy(s, 'nv_inference_count', ['model', 'version'])).to.deep.equal([
      { name: 'nv_inference_count', labels: { model: 'm', version: '1' }, value: 15 },
      { name: 'nv_inference_count', labels: { model: 'n', version: '1' }, value: 1 },
    ]);
  });

  const bad: { name: string; given: string; line: number }[] = [
    { name: 'an HTML page', given: '<html>\n</html>', line: 1 },
    { name: 'a value that is not a number', given: 'ok 1\nbad abc', line: 2 },
    { name: 'a missing value', given: 'lonely', line: 1 },
    { name: 'an unterminated label', given: 'm{a="b} 1', line: 1 },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the line`, () => {
      try {
        parsePrometheusText(c.given);
        expect.fail('no error');
      } catch (err) {
        expect(err).to.be.instanceOf(PrometheusSyntaxError);
        expect((err as PrometheusSyntaxError).line).to.equal(c.line);
      }
    });
  }
});
