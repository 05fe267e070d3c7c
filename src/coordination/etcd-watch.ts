// The etcd backend's watches (etcd.ts): one etcd watcher per key or prefix, shared by every
// subscription to it through a Feed, re-reading the value on every event and (re)connection.
import type { Namespace, Watcher } from 'etcd3';
import type { Clock } from '../ports/clock.js';
import { CoordinatorError } from '../ports/coordinator.js';
import { Feed } from './feed.js';

export interface SharedWatch<T> {
  readonly feed: Feed<T>;
  readonly watcher: Watcher;
  /** Re-reads the value (what the periodic resync calls). */
  readonly refresh: () => void;
}

/** What a shared watch needs of its coordinator. */
export interface WatchContext {
  readonly ns: Namespace;
  readonly clock: Clock;
  readonly onError: (err: unknown) => void;
  /** The coordinator's stop signal now (it is replaced on each start). */
  stopSignal(): AbortSignal;
}

/**
 * One etcd watcher shared by the subscriptions of a key or prefix: any event, and every
 * (re)connection, refreshes the value by reading it, so a missed event costs nothing.
 */
export function sharedWatch<T>(
  ctx: WatchContext,
  select: (b: ReturnType<Namespace['watch']>) => ReturnType<Namespace['watch']>,
  read: () => Promise<T>,
  equals: (a: T, b: T) => boolean,
  onValue?: (value: T) => void,
): SharedWatch<T> {
  const feed = new Feed<T>(equals, ctx.onError);
  const watcher = select(ctx.ns.watch()).watcher();
  let refreshing = Promise.resolve();
  let retryScheduled = false;
  // A read that fails (etcd just back, the client's circuit breaker still open) is retried with
  // doubling delays until one succeeds: the event that triggered it may be the only one. One
  // retry chain at a time: a read that fails while a retry is on its way leaves it to that retry
  // (and a resync's failure is not reported again), so an outage does not pile up retries.
  const refresh = (attempt = 0, quiet = false): void => {
    refreshing = refreshing.then(async () => {
      try {
        const value = await read();
        onValue?.(value);
        feed.publish(value);
      } catch (err) {
        if (ctx.stopSignal().aborted || feed.size === 0) return;
        if (attempt === 0 && retryScheduled) return;
        if (!quiet) ctx.onError(err);
        retryScheduled = true;
        const delay = Math.min(5000, 250 * 2 ** attempt);
        void ctx.clock.sleep(delay, ctx.stopSignal()).then(() => {
          retryScheduled = false;
          refresh(attempt + 1);
        }, () => undefined);
      }
    });
  };
  watcher.on('put', () => refresh());
  watcher.on('delete', () => refresh());
  watcher.on('connected', () => refresh());

  watcher.on('error', (err) => ctx.onError(new CoordinatorError('etcd', 'watch failed', { cause: err })));
  watcher.on('disconnected', (err) => ctx.onError(new CoordinatorError('etcd', 'watch disconnected; reconnecting', { cause: err })));
  return { feed, watcher, refresh: () => refresh(0, true) };
}
