// The Prometheus pull endpoint: the exporter's reader serialises the metrics, and this module owns
// the HTTP server it is served on, so that the lifecycle is explicit (start() reports a port in
// use instead of logging it, port 0 takes a free port, stop() also ends kept-alive scrapes).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { TelemetryError } from './errors.js';

export const DEFAULT_METRICS_PATH = '/metrics';

export interface PrometheusEndpointOptions {
  readonly host: string;
  /** 0 takes a free port; `url` says which. */
  readonly port: number;
  readonly path?: string;
}

export class PrometheusEndpoint {
  /** The MetricReader to register with the MeterProvider. */
  readonly reader: PrometheusExporter;
  private readonly options: PrometheusEndpointOptions;
  private readonly path: string;
  private server: Server | undefined;
  private listening: Promise<string> | undefined;
  private boundUrl: string | undefined;

  constructor(options: PrometheusEndpointOptions) {
    this.options = options;
    this.path = options.path ?? DEFAULT_METRICS_PATH;
    // preventServerStart: the exporter would listen on its own (and read OTEL_EXPORTER_PROMETHEUS_*);
    // we serve its handler instead.
    this.reader = new PrometheusExporter({ preventServerStart: true });
  }

  /** The scrape URL once listening. */
  get url(): string | undefined {
    return this.boundUrl;
  }

  /** Listens; resolves with the scrape URL. Idempotent. */
  start(): Promise<string> {
    this.listening ??= this.listen().catch((err: unknown) => {
      this.listening = undefined;
      throw err;
    });
    return this.listening;
  }

  /** Stops listening and closes open scrape connections. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.listening = undefined;
    this.boundUrl = undefined;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private listen(): Promise<string> {
    const { host, port } = this.options;
    const server = createServer((req, res) => {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method === 'GET' && pathname === this.path) {
        this.reader.getMetricsRequestHandler(req, res);
        return;
      }
      res.statusCode = pathname === this.path ? 405 : 404;
      res.end();
    });
    return new Promise<string>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'the port is taken: another process listens on it — set telemetry.prometheus.port to another, or 0 for a free one'
          : err.code === 'EACCES' ? 'the port is reserved: only root may listen below 1024 — set telemetry.prometheus.port above 1023'
            : err.code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine\'s — set telemetry.prometheus.host'
              : err.message;
        reject(new TelemetryError(`cannot serve metrics on ${host}:${port}: ${why}`, { cause: err }));
      });
      server.listen({ host, port }, () => {
        server.unref(); // a metrics endpoint alone does not keep the process alive
        this.server = server;
        const address = server.address() as AddressInfo;
        const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.boundUrl = `http://${shownHost}:${address.port}${this.path}`;
        resolve(this.boundUrl);
      });
    });
  }
}
