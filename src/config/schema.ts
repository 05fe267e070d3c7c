// The config file's one schema: the loader validates against it and `npm run schema` publishes it
// as config/inferline.schema.json. Objects are strict (an unknown key is a typo until proven
// otherwise). Field transforms (durations to milliseconds, `delay` to `delayMs`) happen here, so
// the parsed output already has the core's shapes; cross-references are checked in cross-checks.ts.
import { z } from 'zod';
import { ARRIVAL_SPEC_HINT, parseArrivalSpec } from '../core/arrival/spec.js';
import { InvalidInputError } from '../core/model/errors.js';
import { DEFAULT_IDLE_SCRAPE_INTERVAL_MS, DEFAULT_LIVE_LOOP } from '../core/controllers/live-loop.js';
import { serverSettingsSchema } from '../../adapters/settings.js';
import { duration, httpUrl, name, positiveInt, strict } from './zod-helpers.js';

const EXAMPLE_ARRIVAL = 'gamma:rate=100,cv=4,duration=60s';

/** An arrival spec, checked with the core's parser so a bad one fails here and not at plan time. */
const arrivalSpec = z.string().superRefine((text, ctx) => {
  try {
    parseArrivalSpec(text);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    const why = err.problems.map((p) => (p.path === '' ? p.message : `${p.path} ${p.message}`)).join('; ');
    ctx.addIssue({ code: 'custom', message: `must be an arrival spec such as "${EXAMPLE_ARRIVAL}" (${why})` });
  }
}).describe(`An arrival spec: ${ARRIVAL_SPEC_HINT}, e.g. "${EXAMPLE_ARRIVAL}".`);

export const hardwareSchema = strict({
  name,
  costPerHour: z.number().min(0).describe('Price of one replica-hour on this hardware.'),
  capacity: positiveInt.optional().describe('How many replicas of this type one server can host.'),
  activationDelay: duration(z.number().min(0)).optional()
    .describe('Start-up time of a new replica on this hardware: it serves only after this (default 0).'),
}).transform(({ activationDelay, ...hw }) => (activationDelay === undefined ? hw : { ...hw, activationDelayMs: activationDelay }));

/** An ISO 8601 date and time (checked here rather than with a JSON Schema pattern: the published patterns are durations). */
const isoTime = z.string().refine(
  (text) => /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text)),
  { error: 'must be an ISO 8601 time such as 2026-11-30T10:00:00.000Z' },
);

export const profilePointSchema = strict({
  batchSize: positiveInt,
  latencyMs: z.number().positive().describe('Latency of one batch of batchSize queries (the service time).'),
  throughputQps: z.number().positive().optional().describe('Measured; derived as batchSize / latency when absent.'),
  p99LatencyMs: z.number().positive().optional().describe('P99 of the batch latency, client-observed (written by `inferline profile`).'),
  samples: z.int().min(0).optional().describe('How many batches the point was measured on.'),
  source: z.enum(['active', 'passive']).optional()
    .describe('How it was measured: active (batches sent by `inferline profile`) or passive (the server\'s per-batch-size statistics under live traffic).'),
  measuredAt: isoTime.optional().describe('When it was measured (ISO 8601, e.g. 2026-11-30T10:00:00.000Z).'),
  stable: z.boolean().optional()
    .describe('Active: three consecutive measurement windows agreed within 10 %. Passive: enough executions were seen.'),
  clientLatencyMs: z.number().positive().optional().describe('Client-observed median latency of one batch (active).'),
  computeLatencyMs: z.number().positive().optional().describe('Server-reported compute time of one batch, queueing excluded, where the server reports timings.'),
});

export const inlineProfileSchema = strict({
  model: name,
  hardware: name,
  points: z.array(profilePointSchema).min(1),
  hopOverheadMs: z.number().min(0).max(60_000).optional()
    .describe('Fixed cost of one request to this server and back (HTTP, serialization, the client\'s scheduling) on top of queueing and compute, in ms: measured by `inferline profile`; the estimator adds it to every visit (default 0).'),
  hopOverheadCurve: z.array(strict({
    inFlight: z.int().min(1).max(100_000).describe('Requests kept in flight at the server while measuring.'),
    hopOverheadMs: z.number().min(0).max(60_000).describe('The hop overhead measured then, in ms.'),
  })).max(64).optional()
    .describe('The hop overhead measured at several concurrencies, ascending in inFlight (written by `inferline profile`): the estimator interpolates it by the requests in flight at the stage when a query is sent there, flat past either end.'),
});

/** A profile file: `{profiles: [...]}`, the same items as inline profiles. */
export const profileFileSchema = strict({
  profiles: z.array(inlineProfileSchema),
}).meta({ title: 'inferline profile table' });

const edgeSchema = strict({
  stage: name,
  fraction: z.number().min(0).max(1).describe('Fraction of the queries leaving this stage that follow the edge.'),
  delay: duration(z.number().min(0)).optional().describe('Fixed network delay on the edge.'),
}).transform(({ delay, ...edge }) => (delay === undefined ? edge : { ...edge, delayMs: delay }));

const stageSchema = strict({
  name,
  model: name,
  hardware: z.array(name).min(1).describe('Hardware types this stage may run on.'),
  next: z.array(edgeSchema).default([]),
  maxBatch: positiveInt.optional(),
  minReplicas: positiveInt.optional(),
  maxReplicas: positiveInt.optional(),
  server: z.enum(['triton', 'torchserve', 'tfserving']).optional()
    .describe('The kind of server that serves the stage: the estimator simulates its batch-delay rule (TorchServe counts from when a worker took the first request, Triton and TF Serving from the oldest queued one) and the planner plans only delays it can be given (TorchServe: whole milliseconds). Default: Triton\'s rule.'),
});

const sloSchema = strict({
  latencyMs: duration(z.number().positive()).describe('End-to-end latency objective.'),
  percentile: z.number().gt(0).lt(100).default(99),
});

const pipelineSchema = strict({
  name,
  slo: sloSchema,
  stages: z.array(stageSchema).min(1),
  roots: z.array(name).min(1).optional().describe('Entry stages; default: the stages with no incoming edge.'),
  arrival: arrivalSpec.optional().describe('Planning workload of this pipeline, overriding planner.arrival.'),
});

/** A node-cron expression (5 or 6 fields), checked with node-cron itself in agent.ts. */
const cronExpression = z.string().min(1);

export const plannerSchema = strict({
  arrival: arrivalSpec.default('gamma:rate=100,cv=1,duration=60s'),
  seed: z.int().min(0).default(1),
  maxReplicasPerStage: positiveInt.default(64),
  exactMaxEvaluations: positiveInt.default(20000),
  samples: positiveInt.max(200).default(1)
    .describe('Samples of a generated planning workload (seeds seed, seed + 1, …) to plan over: the plan is made on the sample at sampleQuantile of difficulty for the plan on the first (default 1: the first alone).'),
  sampleQuantile: z.number().gt(0).max(1).default(0.95)
    .describe('With samples > 1, which sample to plan on: 0.95 is the 19th hardest of 20 (default 0.95).'),
  schedule: cronExpression.default('*/15 * * * *')
    .describe('When the leader re-plans every pipeline, as a cron expression (node-cron; default every 15 minutes). Also on demand (POST /v1/replan) and when the tuner signals drift.'),
  traceWindow: duration(z.number().positive()).default(300_000)
    .describe('How much recent traffic of each pipeline\'s entry stage the leader keeps and re-plans on (default 5m).'),
  minTrace: duration(z.number().positive()).default(60_000)
    .describe('Re-plan on recent traffic only once this much has been seen; before that, on the planning workload (default 1m).'),
});

export const tunerSchema = strict({
  tick: duration(z.number().positive()).default(250).describe('How often the tuner decides (default 250ms).'),
  headroom: z.number().positive().default(1).describe('Multiplies the replicas the live envelope needs (default 1).'),
  maxStepUp: positiveInt.default(64).describe('Most replicas added to a stage per tick.'),
  maxStepDown: positiveInt.default(1).describe('Most replicas removed from a stage per step.'),
  scaleDownDelay: duration(z.number().min(0)).default(30_000).describe('How long the need must stay lower before scaling down (default 30s).'),
  scaleDownInterval: duration(z.number().min(0)).default(5_000).describe('Time between scale-down steps (default 5s).'),
  scaleDownWindow: duration(z.number().positive()).default(30_000).describe('Recent history the scale-down need is computed on (default 30s).'),
  replanBand: z.tuple([z.number().positive(), z.number().positive()]).default([0.5, 2])
    .describe('Sustained rate outside [low, high] × the planned rate asks for a replan.'),
  replanAfter: duration(z.number().min(0)).default(300_000).describe('How long the rate must stay outside the band (default 5m).'),
  tolerance: z.number().min(0).default(0).describe('Scale up only when the live envelope exceeds what the replicas cover by more than this fraction (default 0: at once).'),
  drainTime: duration(z.number().min(0)).default(500).describe('Drain a stage backlog within this on scale-up; 0 ignores queues (default 500ms).'),
  batchAware: strict({
    enabled: z.boolean().default(false),
    interval: duration(z.number().positive()).default(15_000).describe('How often to look for a larger batch with fewer replicas (default 15s).'),
    window: duration(z.number().positive()).default(30_000).describe('Recent traffic the estimator replays to decide (default 30s).'),
  }).prefault({}).describe('Beyond the paper: also raise batch sizes where the estimator shows an equal tail at lower cost.'),
});

export const telemetrySchema = strict({
  serviceName: name.optional().describe('The service.name of the exported metrics (default: OTEL_SERVICE_NAME, else "inferline").'),
  prometheus: strict({
    enabled: z.boolean().default(true).describe('Serve GET /metrics for Prometheus to scrape (default true; one-shot commands never serve it).'),
    host: name.default('127.0.0.1').describe('Address the metrics endpoint listens on (default 127.0.0.1; 0.0.0.0 for every interface).'),
    port: z.int().min(0).max(65535).default(9464).describe('Port of the metrics endpoint (default 9464; 0 takes a free port).'),
  }).prefault({}),
  otlp: strict({
    enabled: z.boolean().optional()
      .describe('Push metrics over OTLP/HTTP (default: on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set).'),
    endpoint: httpUrl.optional()
      .describe('Collector URL: a base URL (http://collector:4318) gets /v1/metrics appended, a URL with a path is used as it is (default: the OTEL_* variables, else http://localhost:4318/v1/metrics).'),
    interval: duration(z.number().positive()).optional().describe('Time between pushes (default: OTEL_METRIC_EXPORT_INTERVAL, else 60s).'),
    headers: z.record(z.string().min(1), z.string()).default({}).describe('HTTP headers of every push, over those of OTEL_EXPORTER_OTLP_(METRICS_)HEADERS.'),
  }).prefault({}),
});

/** An etcd endpoint: http(s)://host:port, loopback or any host; no path. */
const etcdEndpoint = z.string().refine((text) => {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && u.port !== ''
      && (u.pathname === '/' || u.pathname === '') && u.search === '' && u.hash === '' && u.username === '' && !text.endsWith('/');
  } catch {
    return false;
  }
}, { error: 'must be an etcd endpoint: http(s)://host:port, such as http://127.0.0.1:2379' });

/**
 * A Kubernetes object name (DNS-1123 subdomain), or a prefix of one (which may end in "-").
 * Checked with refine, not regex: the JSON Schema's published patterns are the duration grammar.
 */
function kubeName(what: string, prefix = false) {
  const pattern = prefix ? /^[a-z0-9][-a-z0-9.]{0,199}$/ : /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
  return z.string().refine((text) => pattern.test(text), {
    error: `must be ${what}: lowercase letters, digits, "-" and ".", starting${prefix ? '' : ' and ending'} with a letter or digit`,
  });
}

export const coordinationSchema = strict({
  backend: z.enum(['memory', 'etcd', 'kubernetes']).default('memory')
    .describe('memory: one process (the default); etcd: a real etcd cluster; kubernetes: a Lease and a ConfigMap.'),
  leaseDuration: duration(z.number().positive()).default(15_000)
    .describe('How long a leader lease keeps other candidates away once it stops being renewed (default 15s; etcd: the lease TTL, whole seconds).'),
  renewDeadline: duration(z.number().positive()).default(10_000)
    .describe('A leader that could not renew for this long stops leading (default 10s; must be < leaseDuration).'),
  retryPeriod: duration(z.number().positive()).default(2_000)
    .describe('How often candidates try to acquire and the leader renews (default 2s; renewDeadline must be > 1.2 × retryPeriod).'),
  memberTtl: duration(z.number().positive()).default(10_000)
    .describe('A member disappears this long after its agent stops renewing (default 10s; etcd: whole seconds).'),
  memory: strict({
    hubUrl: z.string().refine((text) => {
      try {
        const u = new URL(text);
        return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && (u.pathname === '/' || u.pathname === '');
      } catch {
        return false;
      }
    }, { error: 'must be http://127.0.0.1:PORT (a loopback address, no path)' }).optional()
      .describe('The hub of another process on this machine, served on loopback (the demo serves one to its agent processes); default: a hub inside this process.'),
  }).prefault({}),
  etcd: strict({
    endpoints: z.array(etcdEndpoint).min(1).default(['http://127.0.0.1:2379']).describe('Client URLs of the etcd cluster.'),
    prefix: z.string().refine((text) => text.startsWith('/') && text.endsWith('/'), { error: 'must start and end with "/", such as "/inferline/"' }).default('/inferline/')
      .describe('Key prefix of every key inferline writes (default "/inferline/").'),
    requestTimeout: duration(z.number().positive()).default(5_000).describe('Timeout of one etcd request (default 5s).'),
    tls: strict({
      ca: name.optional().describe('CA certificate file (PEM), relative to this config file; default: the system roots.'),
      cert: name.optional().describe('Client certificate file (PEM), for mutual TLS; needs key.'),
      key: name.optional().describe('Client private key file (PEM); needs cert.'),
    }).optional().describe('TLS to etcd (the endpoints must then be https://).'),
  }).prefault({}),
  kubernetes: strict({
    namespace: kubeName('a namespace name').default('default').describe('Namespace of the Lease objects and the ConfigMap (default "default").'),
    leaseName: kubeName('a Lease name').default('inferline-leader').describe('The coordination.k8s.io/v1 Lease of the leader election.'),
    configMapName: kubeName('a ConfigMap name').default('inferline-desired-state').describe('The ConfigMap holding every agent\'s desired state.'),
    memberLeasePrefix: kubeName('a name prefix', true).default('inferline-member-').describe('Name prefix of the per-agent membership Leases.'),
    kubeconfig: name.optional().describe('A kubeconfig file, relative to this config file; default: the in-cluster service account, else $KUBECONFIG or ~/.kube/config.'),
  }).prefault({}),
});

export const agentSchema = strict({
  id: z.string().refine((t) => /^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(t), { error: 'must be 1–63 letters, digits, "-", "_" or ".", starting with a letter or digit' }).optional()
    .describe('This agent\'s id in the fleet (default: the host name and the server kind, e.g. "node-1-triton").'),
  mode: z.enum(['recommend', 'enforce']).default('recommend')
    .describe('recommend (the default for a first install): only report and export what would change; enforce: apply it through the server\'s API.'),
  hardware: name.describe('The hardware type of this server (a hardware[].name).'),
  capacity: positiveInt.optional().describe('Replicas this server can host in all (default: the hardware\'s capacity, else 64).'),
  models: z.array(name).min(1).optional().describe('Models of this server inferline manages (default: every model the server reports; required for TF Serving).'),
  server: serverSettingsSchema,
  api: strict({
    host: name.default('127.0.0.1').describe('Address the agent API listens on (default 127.0.0.1).'),
    port: z.int().min(0).max(65535).default(8470).describe('Port of the agent API (default 8470; 0 takes a free port).'),
    advertiseUrl: httpUrl.optional().describe('How other agents reach this one (default http://host:port).'),
    token: z.string().min(16, { error: 'must be at least 16 characters' }).optional()
      .describe('Bearer token of the mutating calls and of sample pushes to the leader; the same on every agent (or INFERLINE_AGENT__API__TOKEN).'),
    tokenFile: name.optional().describe('A file holding the token (a mounted Secret), relative to this config file.'),
  }).prefault({}),
  scrapeInterval: duration(z.number().positive()).default(DEFAULT_LIVE_LOOP.scrapeIntervalMs)
    .describe(`How often the agent samples its server (default ${DEFAULT_LIVE_LOOP.scrapeIntervalMs}ms).`),
  idleScrapeInterval: duration(z.number().positive()).default(DEFAULT_IDLE_SCRAPE_INTERVAL_MS)
    .describe(`How often the agent samples its server once the server has had no traffic for a push interval, back to scrapeInterval at the first scrape that sees some (default ${DEFAULT_IDLE_SCRAPE_INTERVAL_MS}ms; at most scrapeInterval keeps one rate).`),
  pushInterval: duration(z.number().positive()).default(DEFAULT_LIVE_LOOP.pushIntervalMs)
    .describe(`The longest the agent keeps its samples: it pushes them to the leader as soon as its traffic changes, else at least this often (default ${DEFAULT_LIVE_LOOP.pushIntervalMs / 1000}s; at most scrapeInterval pushes every scrape).`),
  reconcile: strict({
    interval: duration(z.number().positive()).default(1_000).describe('Time between reconcile passes (default 1s).'),
    idleInterval: duration(z.number().positive()).default(5_000)
      .describe('Time between reconcile passes once they have found the server as desired for 10s: a drift check; a new desired state still runs a pass at once (default 5s; at most interval keeps one rate).'),
    minReplicas: positiveInt.default(1).describe('Never fewer replicas of a model (default 1).'),
    maxReplicas: positiveInt.default(64).describe('Never more replicas of a model (default 64).'),
    maxStepUp: positiveInt.default(16).describe('Most replicas added in one action (default 16).'),
    maxStepDown: positiveInt.default(2).describe('Most replicas removed in one action (default 2).'),
    cooldown: duration(z.number().min(0)).default(10_000).describe('No replica change within this of the last one on a model, except scale-ups (default 10s).'),
    batchCooldown: duration(z.number().min(0)).default(60_000).describe('No batching change within this of the last one (default 60s).'),
    maxActionsPerMinute: positiveInt.default(30).describe('Rate limit of changes per server (default 30).'),
    maxAttempts: positiveInt.default(5).describe('Attempts of a failing change before giving up on that desired value (default 5).'),
    retryBase: duration(z.number().positive()).default(1_000).describe('First retry delay after a failure, doubling up to 60s (default 1s).'),
  }).prefault({}),
  profiling: strict({
    active: z.boolean().default(false)
      .describe('Let the leader ask this agent for an active profile of a model with no profile on its hardware (sends batches to the server; default false).'),
    passive: z.boolean().default(true).describe('Report Triton\'s per-batch-size statistics for passive profiling (default true).'),
  }).prefault({}),
}).describe('The sidecar (`inferline agent`): the server it attaches to and how it changes it.');

const workloadSchema = strict({
  pipeline: name.describe('The pipeline of the stage.'),
  stage: name.describe('The stage whose pods this workload runs.'),
  kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment').describe('The workload\'s kind (default Deployment).'),
  name: kubeName('a Deployment or StatefulSet name').describe('The workload\'s name.'),
  namespace: kubeName('a namespace name').optional().describe('Its namespace (default: coordination.kubernetes.namespace).'),
  replicasPerPod: positiveInt.default(1)
    .describe('Replicas of the stage\'s model one pod hosts, its agent\'s capacity for that model (default 1): pods = ceil(desired replicas / replicasPerPod).'),
  minReplicas: z.int().min(0).default(1).describe('Never fewer pods (default 1).'),
  maxReplicas: positiveInt.default(16).describe('Never more pods (default 16).'),
}).describe('The Kubernetes workload whose pods run one pipeline stage.');

export const placementSchema = strict({
  backend: z.enum(['command', 'kubernetes-scale']).default('command')
    .describe('How the leader gets replicas beyond what the fleet\'s servers host: command runs orchestratorCommand; kubernetes-scale patches the scale subresource of the stage\'s workload (default command).'),
  orchestratorCommand: z.array(z.string().min(1)).min(1).optional()
    .describe('Run when a stage needs more replicas than the fleet can host: {pipeline}, {stage}, {hardware}, {model} and {missing} are replaced.'),
  commandTimeout: duration(z.number().positive()).default(30_000).describe('Timeout of the orchestrator command (default 30s).'),
  workloads: z.array(workloadSchema).default([])
    .describe('The Deployment or StatefulSet of each stage, for the kubernetes-scale backend and the workload label of the KEDA and HPA figures.'),
  externalScaler: strict({
    enabled: z.boolean().default(false).describe('Serve KEDA\'s external scaler gRPC protocol (default false).'),
    host: name.default('127.0.0.1').describe('Address it listens on (default 127.0.0.1; 0.0.0.0 for KEDA in the cluster).'),
    port: z.int().min(0).max(65535).default(8471).describe('Its port (default 8471; 0 takes a free port).'),
  }).prefault({}).describe('KEDA external scaler: a ScaledObject of type external-push per stage takes the leader\'s desired replicas.'),
});

const profileSource = z.union([name.describe('A profile file, relative to this config file.'), inlineProfileSchema]);

export const configSchema = strict({
  hardware: z.array(hardwareSchema).min(1),
  profiles: z.union([name, z.array(profileSource)]).default([])
    .describe('Profile tables: a file path, or a list of file paths and inline profiles.'),
  pipelines: z.array(pipelineSchema).min(1),
  // prefault, not default: the `{}` must itself be parsed so that the inner defaults fill it in.
  planner: plannerSchema.prefault({}),
  tuner: tunerSchema.prefault({}),
  telemetry: telemetrySchema.prefault({}),
  coordination: coordinationSchema.prefault({}),
  agent: agentSchema.optional(),
  placement: placementSchema.prefault({}),
}).meta({
  title: 'inferline config',
  description: 'Hardware, profiles, pipelines with their SLOs, planner, tuner, telemetry and coordination settings.',
});

/** The config file as written (`…Options`: raw input). */
export type ConfigFileOptions = z.input<typeof configSchema>;
/** The config file after the schema: defaults filled, durations in ms; not yet cross-checked. */
export type ParsedConfigFile = z.output<typeof configSchema>;
export type InlineProfile = z.output<typeof inlineProfileSchema>;
