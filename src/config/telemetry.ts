// The telemetry section after the schema, with the standard OpenTelemetry variables applied where
// the file leaves a setting out (the file, including INFERLINE_* overrides, wins over OTEL_*):
//   OTEL_SDK_DISABLED=true                    every exporter off
//   OTEL_SERVICE_NAME                         serviceName
//   OTEL_EXPORTER_OTLP_METRICS_ENDPOINT       otlp.endpoint, used as it is; turns OTLP on
//   OTEL_EXPORTER_OTLP_ENDPOINT               otlp.endpoint + /v1/metrics; turns OTLP on
//   OTEL_EXPORTER_OTLP_HEADERS, …_METRICS_HEADERS   headers under otlp.headers (key=value,…)
//   OTEL_METRIC_EXPORT_INTERVAL               otlp.interval, in milliseconds
//   OTEL_METRIC_EXPORT_TIMEOUT                timeout of one push, in milliseconds (≤ the interval)
// The OTLP variables are read only when OTLP is on; a bad one is a problem named by the variable.
import type { Problem } from '../core/model/errors.js';
import type { ParsedConfigFile } from './schema.js';
import type { TelemetryConfig } from './types.js';

export const DEFAULT_SERVICE_NAME = 'inferline';
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318/v1/metrics';
export const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
export const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;
const METRICS_PATH = 'v1/metrics';

export function resolveTelemetry(file: ParsedConfigFile['telemetry'], env: NodeJS.ProcessEnv): { config: TelemetryConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const variable = (key: string): string | undefined => {
    const v = env[key]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const disabled = variable('OTEL_SDK_DISABLED')?.toLowerCase() === 'true';
  const metricsEndpointVar = variable('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const baseEndpointVar = variable('OTEL_EXPORTER_OTLP_ENDPOINT');
  const otlpEnabled = !disabled && (file.otlp.enabled ?? (metricsEndpointVar !== undefined || baseEndpointVar !== undefined));

  let endpoint = DEFAULT_OTLP_ENDPOINT;
  let intervalMs = file.otlp.interval ?? DEFAULT_EXPORT_INTERVAL_MS;
  let timeoutMs = DEFAULT_EXPORT_TIMEOUT_MS;
  let headers: Record<string, string> = { ...file.otlp.headers };
  if (otlpEnabled) {
    if (file.otlp.endpoint !== undefined) endpoint = withMetricsPath(file.otlp.endpoint);
    else if (metricsEndpointVar !== undefined) endpoint = checkedUrl('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', metricsEndpointVar, problems, false);
    else if (baseEndpointVar !== undefined) endpoint = checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpointVar, problems, true);
    if (file.otlp.interval === undefined) intervalMs = millis('OTEL_METRIC_EXPORT_INTERVAL', variable('OTEL_METRIC_EXPORT_INTERVAL'), DEFAULT_EXPORT_INTERVAL_MS, problems);
    timeoutMs = Math.min(intervalMs, millis('OTEL_METRIC_EXPORT_TIMEOUT', variable('OTEL_METRIC_EXPORT_TIMEOUT'), DEFAULT_EXPORT_TIMEOUT_MS, problems));
    headers = {
      ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', variable('OTEL_EXPORTER_OTLP_HEADERS'), problems),
      ...keyValues('OTEL_EXPORTER_OTLP_METRICS_HEADERS', variable('OTEL_EXPORTER_OTLP_METRICS_HEADERS'), problems),
      ...file.otlp.headers,
    };
  }
  return {
    config: {
      serviceName: file.serviceName ?? variable('OTEL_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME,
      prometheus: { enabled: !disabled && file.prometheus.enabled, host: file.prometheus.host, port: file.prometheus.port },
      otlp: { enabled: otlpEnabled, endpoint, intervalMs, timeoutMs, headers },
    },
    problems,
  };
}

/** A collector's base URL (no path) gets /v1/metrics; a URL with a path is the metrics URL itself. */
export function withMetricsPath(url: string): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = `/${METRICS_PATH}`;
  return u.href;
}

function checkedUrl(name: string, text: string, problems: Problem[], appendPath: boolean): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    problems.push({ path: name, message: `${JSON.stringify(text)} — must be an http(s) URL` });
    return DEFAULT_OTLP_ENDPOINT;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    problems.push({ path: name, message: `${JSON.stringify(text)} — must be an http(s) URL` });
    return DEFAULT_OTLP_ENDPOINT;
  }
  // The specification: the signal path is appended to the base endpoint's own path.
  if (appendPath) u.pathname = `${u.pathname.replace(/\/+$/, '')}/${METRICS_PATH}`;
  return u.href;
}

function millis(name: string, text: string | undefined, fallback: number, problems: Problem[]): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) {
    problems.push({ path: name, message: `${JSON.stringify(text)} — must be a whole number of milliseconds > 0` });
    return fallback;
  }
  return n;
}

/** `key1=value1,key2=value2`, values percent-decoded (the OTLP exporter variables' format). */
function keyValues(name: string, text: string | undefined, problems: Problem[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim();
    if (key === '') {
      problems.push({ path: name, message: `${JSON.stringify(part.trim())} — must be key=value pairs separated by commas` });
      continue;
    }
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // not percent-encoded: keep it as written
    }
    out[key] = value;
  }
  return out;
}
