// The flags that point a command (`inspect`, `profile`, and `replay`'s fleet entries) at one model
// server, and the adapter options they stand for: each kind's settings (adapters/<kind>/settings.ts,
// through the registry) map them, as they map the agent's config section.
import type { Command } from 'commander';
import { adapterOptionsFromFlags, FlagError, isServerKind } from '../../../adapters/registry.js';
import type { AdapterOptions, ServerFlags } from '../../../adapters/registry.js';
import { TORCHSERVE_TOKEN_ENV } from '../../../adapters/torchserve/settings.js';
import { SERVER_KINDS } from '../../ports/server-adapter.js';
import { UsageError } from '../errors.js';

export { TORCHSERVE_TOKEN_ENV };

/** The server-specific flags, after --server and --url (same help on every command). */
export function addServerFlags(command: Command): Command {
  return command
    .option('--metrics-url <url>', 'metrics endpoint (Triton: port 8002; TorchServe: port 8082; TF Serving: a path on --url)')
    .option('--grpc-url <host:port>', 'Triton: its gRPC address (host:port) for model loads, which over HTTP stall inference (default: port 8001 when --url is on 8000, else HTTP; none: HTTP)')
    .option('--management-url <url>', "TorchServe management API (default: --url's host on port 8081)")
    .option('--token <key>', `TorchServe: the key for both the inference and management APIs (or ${TORCHSERVE_TOKEN_ENV})`)
    .option('--key-file <path>', "TorchServe: key_file.json from TorchServe's working directory")
    .option('--header <name=value>', 'Triton: the header its --http-restricted-api asks for, sent on every request');
}

/** The adapter options the flags stand for; bad flags are a UsageError. */
export function serverAdapterOptions(server: string, flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): AdapterOptions {
  if (!isServerKind(server)) throw new UsageError(`--server ${server}: unknown server — must be one of: ${SERVER_KINDS.join(', ')}`);
  try {
    return adapterOptionsFromFlags(server, flags, env);
  } catch (err) {
    throw err instanceof FlagError ? new UsageError(err.message, { cause: err }) : err;
  }
}
