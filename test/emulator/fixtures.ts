// Golden bodies copied from reference/server-apis.md section E.

/** F1 — Triton statistics, dynamic batching on (batch sizes 1 and 5). */
export const F1 = {
  model_stats: [{
    name: 'peoplenet', version: '1', last_inference: 1626447787832, inference_count: 6, execution_count: 2,
    inference_stats: {
      success: { count: 6, ns: 558981051 }, fail: { count: 0, ns: 0 }, queue: { count: 6, ns: 49271380 },
      compute_input: { count: 6, ns: 170634044 }, compute_infer: { count: 6, ns: 338079193 }, compute_output: { count: 6, ns: 950544 },
    },
    batch_stats: [
      { batch_size: 1, compute_input: { count: 1, ns: 15955684 }, compute_infer: { count: 1, ns: 29917093 }, compute_output: { count: 1, ns: 152264 } },
      { batch_size: 5, compute_input: { count: 1, ns: 30935672 }, compute_infer: { count: 1, ns: 61632420 }, compute_output: { count: 1, ns: 159656 } },
    ],
  }],
};

/** F5 — TorchServe describe model (CPU worker); `engine` is no longer emitted by the code. */
export const F5 = [{
  modelName: 'noop', modelVersion: '1.0', modelUrl: 'noop.mar', engine: 'Torch', runtime: 'python', minWorkers: 1, maxWorkers: 1,
  batchSize: 1, maxBatchDelay: 100,
  workers: [{ id: '9000', startTime: '2018-10-02T13:44:53.034Z', status: 'READY', gpu: false, memoryUsage: 89247744 }],
  jobQueueStatus: { remainingCapacity: 100, pendingRequests: 0 },
}];

/** F7 — TorchServe status bodies. */
export const F7_ASYNC = { status: 'Processing worker updates...' };

/** F9 — TorchServe key_file.json. */
export const F9 = {
  management: { key: 'B-E5KSRM', 'expiration time': '2024-02-16T21:12:24.801167Z' },
  inference: { key: 'gNRuA7dS', 'expiration time': '2024-02-16T21:12:24.801148Z' },
  API: { key: 'yv9uQajP' },
};

/** F10 — TorchServe Prometheus text. */
export const F10 = [
  '# HELP ts_queue_latency_microseconds Torchserve prometheus counter metric with unit: Microseconds',
  '# TYPE ts_queue_latency_microseconds counter',
  'ts_queue_latency_microseconds{model_name="resnet18",model_version="default",hostname="88665a372f4b.ant.amazon.com",} 365.21',
  '# HELP ts_inference_requests_total Torchserve prometheus counter metric with unit: Count',
  '# TYPE ts_inference_requests_total counter',
  'ts_inference_requests_total{model_name="resnet18",model_version="default",hostname="88665a372f4b.ant.amazon.com",} 3.0',
];

/** F11 — TF Serving model status and error. */
export const F11_STATUS = {
  model_version_status: [{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
};
export const F11_ERROR = { error: 'Servable not found for request: Latest(half)' };

/** The TorchServe error body of a missing or bad key (B.2). */
export const INVALID_KEY = {
  code: 400, type: 'InvalidKeyException',
  message: 'Token Authorization failed. Token either incorrect, expired, or not provided correctly',
};

/** The TorchServe body of register / unregister without enable_model_api (B.4). */
export const METHOD_NOT_ALLOWED = {
  code: 405, type: 'MethodNotAllowedException', message: 'Requested method is not allowed, please refer to API document.',
};
