// Triton's gRPC address as a user writes it (config and flags) and as the adapter takes it. Pure,
// so the settings schema (settings.ts) checks it without loading anything of gRPC.

/**
 * `host:port` from what a user writes for a gRPC address: `host:port`, `grpc://host:port` or
 * `http://host:port` (a path is not allowed). Throws on anything else, naming it.
 */
export function grpcTarget(address: string): string {
  const text = address.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `grpc://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new TypeError(`gRPC address '${address}': not host:port`);
  }
  if (!['grpc:', 'http:'].includes(u.protocol)) throw new TypeError(`gRPC address '${address}': scheme ${u.protocol} (use host:port, grpc:// or http://)`);
  if (u.port === '') throw new TypeError(`gRPC address '${address}': no port (Triton's gRPC port is 8001 by default)`);
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.username !== '') throw new TypeError(`gRPC address '${address}': only host:port is allowed`);
  return `${u.hostname}:${u.port}`;
}

/** A gRPC address as the config takes it (host:port, grpc:// or http:// before it, a port in 1–65535), or none. */
export function isGrpcAddress(text: string): boolean {
  if (text === 'none') return true;
  const m = /^(?:(?:grpc|http):\/\/)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(text);
  const port = m ? Number(m[1]) : 0;
  return port >= 1 && port <= 65535;
}
