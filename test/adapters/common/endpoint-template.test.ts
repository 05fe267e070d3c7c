// Endpoint templates: every path the three clients request maps to its route, with the model and
// version as placeholders, so the adapter metrics have a bounded `endpoint` label.
import { expect } from 'chai';
import { endpointTemplate } from '../../../adapters/common/endpoint-template.js';
import type { ServerKind } from '../../../src/ports/server-adapter.js';

const cases: { given: [ServerKind, string, string]; want: string }[] = [
  // Triton (adapters/triton/client.ts)
  { given: ['triton', 'GET', '/v2/health/live'], want: 'GET /v2/health/live' },
  { given: ['triton', 'GET', '/v2/health/ready'], want: 'GET /v2/health/ready' },
  { given: ['triton', 'GET', '/v2'], want: 'GET /v2' },
  { given: ['triton', 'POST', '/v2/repository/index'], want: 'POST /v2/repository/index' },
  { given: ['triton', 'GET', '/v2/models/densenet_onnx/config'], want: 'GET /v2/models/{model}/config' },
  { given: ['triton', 'GET', '/v2/models/densenet_onnx'], want: 'GET /v2/models/{model}' },
  { given: ['triton', 'GET', '/v2/models/stats'], want: 'GET /v2/models/stats' },
  { given: ['triton', 'GET', '/v2/models/resnet/stats'], want: 'GET /v2/models/{model}/stats' },
  { given: ['triton', 'GET', '/v2/models/resnet/versions/3/stats'], want: 'GET /v2/models/{model}/versions/{version}/stats' },
  { given: ['triton', 'GET', '/metrics'], want: 'GET /metrics' },
  { given: ['triton', 'POST', '/v2/repository/models/my%20model/load'], want: 'POST /v2/repository/models/{model}/load' },
  { given: ['triton', 'POST', '/v2/repository/models/m/unload'], want: 'POST /v2/repository/models/{model}/unload' },
  { given: ['triton', 'POST', '/v2/models/m/infer'], want: 'POST /v2/models/{model}/infer' },
  // TorchServe (adapters/torchserve/client.ts)
  { given: ['torchserve', 'GET', '/ping'], want: 'GET /ping' },
  { given: ['torchserve', 'GET', '/models'], want: 'GET /models' },
  { given: ['torchserve', 'GET', '/models/squeezenet'], want: 'GET /models/{model}' },
  { given: ['torchserve', 'GET', '/models/squeezenet/2.0'], want: 'GET /models/{model}/{version}' },
  { given: ['torchserve', 'PUT', '/models/squeezenet'], want: 'PUT /models/{model}' },
  { given: ['torchserve', 'PUT', '/models/squeezenet/2.0/set-default'], want: 'PUT /models/{model}/{version}/set-default' },
  { given: ['torchserve', 'DELETE', '/models/squeezenet/1.0'], want: 'DELETE /models/{model}/{version}' },
  { given: ['torchserve', 'POST', '/predictions/squeezenet'], want: 'POST /predictions/{model}' },
  { given: ['torchserve', 'POST', '/predictions/squeezenet/2.0'], want: 'POST /predictions/{model}/{version}' },
  { given: ['torchserve', 'GET', '/token'], want: 'GET /token' },
  // TF Serving (adapters/tfserving/client.ts)
  { given: ['tfserving', 'GET', '/v1/models/half_plus_two'], want: 'GET /v1/models/{model}' },
  { given: ['tfserving', 'GET', '/v1/models/half_plus_two/metadata'], want: 'GET /v1/models/{model}/metadata' },
  { given: ['tfserving', 'POST', '/v1/models/half_plus_two:predict'], want: 'POST /v1/models/{model}:predict' },
  { given: ['tfserving', 'POST', '/v1/models/half/versions/2:predict'], want: 'POST /v1/models/{model}/versions/{version}:predict' },
  { given: ['tfserving', 'GET', '/monitoring/prometheus/metrics'], want: 'GET /monitoring/prometheus/metrics' },
];

describe('adapters/common/endpoint-template', () => {
  for (const c of cases) {
    it(`${c.given.join(' ')} → ${c.want}`, () => expect(endpointTemplate(...c.given)).to.equal(c.want));
  }

  it('two models give one template', () => {
    expect(endpointTemplate('triton', 'GET', '/v2/models/a/stats')).to.equal(endpointTemplate('triton', 'GET', '/v2/models/b/stats'));
  });
});
