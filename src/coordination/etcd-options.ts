// The etcd backend's options (etcd.ts), and the etcd3 client options they make.
import { readFile } from 'node:fs/promises';
import type { IOptions } from 'etcd3';
import type { ElectionTiming } from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import { CoordinatorError } from '../ports/coordinator.js';

export interface EtcdTlsFiles {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface EtcdCoordinatorOptions {
  readonly identity: string;
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  readonly endpoints: readonly string[];
  /** Key prefix, starting and ending with "/" (default "/inferline/"). */
  readonly prefix?: string;
  readonly timing?: ElectionTiming;
  readonly memberTtlMs?: number;
  /** Timeout of one unary request (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** PEM files, read by create(). */
  readonly tls?: EtcdTlsFiles;
  readonly clock?: Clock;
  readonly onError?: (err: unknown) => void;
  /**
   * Every watch also re-reads its key this often (informer-style resync), so an event lost while
   * etcd restarted, or while the client's circuit breaker was open, costs at most this long
   * (default: the retry period, at least 1 s).
   */
  readonly watchResyncMs?: number;
}

/** The etcd3 client's options: endpoints, deadlines and the TLS files, read now. */
export async function clientOptionsOf(options: EtcdCoordinatorOptions): Promise<IOptions> {
  const read = async (file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new CoordinatorError('etcd', `cannot read TLS file ${file}`, { cause: err });
    }
  };
  const tls = options.tls;
  const [ca, cert, key] = [await read(tls?.caFile), await read(tls?.certFile), await read(tls?.keyFile)];
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const clientOptions: IOptions = {
    hosts: [...options.endpoints],
    dialTimeout: requestTimeoutMs,
    // Unary calls get a deadline; streams (watches, keep-alives) must not, or they would end.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    ...(tls === undefined ? {} : {
      credentials: {
        rootCertificate: ca ?? Buffer.alloc(0),
        ...(key === undefined ? {} : { privateKey: key }),
        ...(cert === undefined ? {} : { certChain: cert }),
      },
    }),
  };
  return clientOptions;
}
