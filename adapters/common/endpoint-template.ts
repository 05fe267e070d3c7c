// The endpoint template of a request path, for metric attributes: the model and version segments
// become `{model}` and `{version}`, so that a label's values are the server's API routes (a few
// dozen) rather than one per model. `GET /v2/models/resnet/stats` → `GET /v2/models/{model}/stats`;
// TF Serving's `/v1/models/half:predict` → `/v1/models/{model}:predict`.
import type { ServerKind } from '../../src/ports/server-adapter.js';

/** Path segments after which the next one names a model. */
const MODEL_PARENTS = new Set(['models', 'predictions', 'explanations']);
/** Segments that follow a model and are routes, not versions (TorchServe puts a version right after the model). */
const MODEL_ROUTES = new Set(['config', 'stats', 'infer', 'ready', 'load', 'unload', 'metadata', 'versions', 'set-default', 'generate', 'trace']);

export function endpointTemplate(server: ServerKind, method: string, path: string): string {
  const segments = path.split('?')[0]?.split('/') ?? [];
  const out: string[] = [];
  let afterModel = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const prev = i > 0 ? (segments[i - 1] as string) : '';
    const last = i === segments.length - 1;
    if (seg === '') {
      out.push(seg);
      continue;
    }
    if (MODEL_PARENTS.has(prev) && !(server === 'triton' && seg === 'stats' && last)) {
      // TF Serving appends the verb to the model: `name:predict` (a ':' inside a name is encoded).
      const colon = seg.lastIndexOf(':');
      out.push(colon > 0 ? `{model}${seg.slice(colon)}` : '{model}');
      afterModel = true;
      continue;
    }
    if (prev === 'versions' || (afterModel && server === 'torchserve' && !MODEL_ROUTES.has(seg))) {
      const colon = seg.lastIndexOf(':');
      out.push(colon > 0 ? `{version}${seg.slice(colon)}` : '{version}');
      afterModel = false;
      continue;
    }
    out.push(seg);
    afterModel = false;
  }
  return `${method} ${out.join('/')}`;
}
