// The telemetry section: defaults, the file's values, the standard OTEL_* variables where the file
// leaves a setting out, and bad input as problems at their paths.
import { expect } from 'chai';
import type { TelemetryConfig } from '../../src/config/index.js';
import { edited, load, problemsOf, type Loose } from './fixtures.js';

const DEFAULTS: TelemetryConfig = {
  serviceName: 'inferline',
  prometheus: { enabled: true, host: '127.0.0.1', port: 9464 },
  otlp: { enabled: false, endpoint: 'http://localhost:4318/v1/metrics', intervalMs: 60_000, timeoutMs: 30_000, headers: {} },
};

type Otlp = TelemetryConfig['otlp'];
const withTelemetry = (telemetry: unknown): string => edited((c: Loose) => { c.telemetry = telemetry; });

describe('config: telemetry', () => {
  it('defaults: Prometheus on 127.0.0.1:9464, OTLP off', () => {
    expect(load(edited(() => undefined)).telemetry).to.deep.equal(DEFAULTS);
  });

  const cases: { name: string; given: { telemetry?: unknown; env?: NodeJS.ProcessEnv }; want: { serviceName?: string; prometheus?: TelemetryConfig['prometheus']; otlp?: Partial<Otlp> } }[] = [
    {
      name: 'the file sets every key',
      given: { telemetry: { serviceName: 'edge', prometheus: { enabled: false, host: '0.0.0.0', port: 0 }, otlp: { enabled: true, endpoint: 'https://otel.example:4318/custom/path', interval: '15s', headers: { 'x-api-key': 'k' } } } },
      want: { serviceName: 'edge', prometheus: { enabled: false, host: '0.0.0.0', port: 0 }, otlp: { enabled: true, endpoint: 'https://otel.example:4318/custom/path', intervalMs: 15_000, timeoutMs: 15_000, headers: { 'x-api-key': 'k' } } },
    },
    {
      name: 'a base endpoint in the file gets /v1/metrics',
      given: { telemetry: { otlp: { enabled: true, endpoint: 'http://collector:4318' } } },
      want: { otlp: { enabled: true, endpoint: 'http://collector:4318/v1/metrics' } },
    },
    {
      name: 'OTEL_EXPORTER_OTLP_ENDPOINT turns OTLP on and gets /v1/metrics after its path',
      given: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' } },
      want: { otlp: { enabled: true, endpoint: 'http://collector:4318/otlp/v1/metrics' } },
    },
    {
      name: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as it is, and wins over the base one',
      given: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://b:9000/ingest' } },
      want: { otlp: { enabled: true, endpoint: 'http://b:9000/ingest' } },
    },
    {
      name: 'the file\'s endpoint wins over the variables',
      given: { telemetry: { otlp: { endpoint: 'http://file:4318/v1/metrics' } }, env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://env:4318/v1/metrics' } },
      want: { otlp: { enabled: true, endpoint: 'http://file:4318/v1/metrics' } },
    },
    {
      name: 'otlp.enabled: false in the file wins over an endpoint variable',
      given: { telemetry: { otlp: { enabled: false } }, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' } },
      want: { otlp: { enabled: false, endpoint: DEFAULTS.otlp.endpoint } },
    },
    {
      name: 'interval and timeout from OTEL_METRIC_EXPORT_*; the timeout is kept within the interval',
      given: { telemetry: { otlp: { enabled: true } }, env: { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '9000' } },
      want: { otlp: { enabled: true, intervalMs: 5000, timeoutMs: 5000 } },
    },
    {
      name: 'the file\'s interval wins over OTEL_METRIC_EXPORT_INTERVAL',
      given: { telemetry: { otlp: { enabled: true, interval: '2s' } }, env: { OTEL_METRIC_EXPORT_INTERVAL: '5000' } },
      want: { otlp: { enabled: true, intervalMs: 2000, timeoutMs: 2000 } },
    },
    {
      name: 'headers: the signal variable over the general one, the file over both; values percent-decoded',
      given: {
        telemetry: { otlp: { enabled: true, headers: { c: 'file' } } },
        env: { OTEL_EXPORTER_OTLP_HEADERS: 'a=general,b=general,c=general', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=metrics%20only,c=metrics' },
      },
      want: { otlp: { enabled: true, headers: { a: 'general', b: 'metrics only', c: 'file' } } },
    },
    {
      name: 'OTEL_SERVICE_NAME names the service unless the file does',
      given: { env: { OTEL_SERVICE_NAME: 'from-env' } },
      want: { serviceName: 'from-env' },
    },
    {
      name: 'OTEL_SDK_DISABLED=true turns every exporter off',
      given: { telemetry: { otlp: { enabled: true } }, env: { OTEL_SDK_DISABLED: 'true' } },
      want: { prometheus: { ...DEFAULTS.prometheus, enabled: false }, otlp: { enabled: false } },
    },
    {
      name: 'INFERLINE_* overrides reach the section like any other',
      given: { env: { INFERLINE_TELEMETRY__PROMETHEUS__PORT: '9500', INFERLINE_TELEMETRY__OTLP__ENABLED: 'true' } },
      want: { prometheus: { ...DEFAULTS.prometheus, port: 9500 }, otlp: { enabled: true } },
    },
    {
      name: 'the OTLP variables are not read while OTLP is off',
      given: { env: { OTEL_METRIC_EXPORT_INTERVAL: 'soon', OTEL_EXPORTER_OTLP_HEADERS: 'broken' } },
      want: { otlp: { enabled: false, intervalMs: 60_000, headers: {} } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const text = c.given.telemetry === undefined ? edited(() => undefined) : withTelemetry(c.given.telemetry);
      const got = load(text, {}, c.given.env ?? {}).telemetry;
      if (c.want.serviceName !== undefined) expect(got.serviceName).to.equal(c.want.serviceName);
      if (c.want.prometheus !== undefined) expect(got.prometheus).to.deep.equal(c.want.prometheus);
      if (c.want.otlp !== undefined) expect(got.otlp).to.deep.include(c.want.otlp);
    });
  }

  const bad: { name: string; given: { telemetry?: unknown; env?: NodeJS.ProcessEnv }; want: { path: string; message: RegExp } }[] = [
    { name: 'unknown key', given: { telemetry: { prometheus: { adress: 'x' } } }, want: { path: 'telemetry.prometheus.adress', message: /^unknown key — must be one of: enabled, host, port$/ } },
    { name: 'port out of range', given: { telemetry: { prometheus: { port: 70000 } } }, want: { path: 'telemetry.prometheus.port', message: /^70000 — must be ≤ 65535$/ } },
    { name: 'port not a number', given: { telemetry: { prometheus: { port: 'ninety' } } }, want: { path: 'telemetry.prometheus.port', message: /"ninety" — must be a number/ } },
    { name: 'endpoint not a URL', given: { telemetry: { otlp: { endpoint: 'collector:4318' } } }, want: { path: 'telemetry.otlp.endpoint', message: /must be an http\(s\) URL$/ } },
    { name: 'bad interval', given: { telemetry: { otlp: { interval: 'often' } } }, want: { path: 'telemetry.otlp.interval', message: /must be a duration such as/ } },
    { name: 'header value not a string', given: { telemetry: { otlp: { headers: { a: 1 } } } }, want: { path: 'telemetry.otlp.headers.a', message: /^<redacted> — must be a string$/ } }, // header values are secrets: never echoed
    { name: 'enabled not a boolean', given: { telemetry: { otlp: { enabled: 'yes' } } }, want: { path: 'telemetry.otlp.enabled', message: /^"yes" — must be true or false$/ } },
    { name: 'a bad endpoint variable', given: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' } }, want: { path: 'OTEL_EXPORTER_OTLP_ENDPOINT', message: /^"not a url" — must be an http\(s\) URL$/ } },
    { name: 'a bad interval variable', given: { telemetry: { otlp: { enabled: true } }, env: { OTEL_METRIC_EXPORT_INTERVAL: '1.5s' } }, want: { path: 'OTEL_METRIC_EXPORT_INTERVAL', message: /^"1\.5s" — must be a whole number of milliseconds > 0$/ } },
    { name: 'a bad headers variable', given: { telemetry: { otlp: { enabled: true } }, env: { OTEL_EXPORTER_OTLP_HEADERS: 'a=1,novalue' } }, want: { path: 'OTEL_EXPORTER_OTLP_HEADERS', message: /^"novalue" — must be key=value pairs separated by commas$/ } },
    { name: 'a bad override', given: { env: { INFERLINE_TELEMETRY__PROMETHEUS__PORT: 'high' } }, want: { path: 'telemetry.prometheus.port', message: /\(set by INFERLINE_TELEMETRY__PROMETHEUS__PORT\)$/ } },
  ];
  for (const c of bad) {
    it(`bad input is a ConfigError problem at its path: ${c.name}`, () => {
      const text = c.given.telemetry === undefined ? edited(() => undefined) : withTelemetry(c.given.telemetry);
      const problems = problemsOf(text, {}, c.given.env ?? {});
      const hit = problems.find((p) => p.path === c.want.path && c.want.message.test(p.message));
      expect(hit, `problems were:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`).to.not.equal(undefined);
    });
  }
});
