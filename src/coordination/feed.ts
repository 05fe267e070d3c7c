// Level-triggered fan-out for watches: each subscription gets the current value when it subscribes
// and then every published value that differs from the last one it got. A throwing listener is
// reported and the others still run.
import type { Listener, Subscription } from '../ports/coordinator.js';

interface Sub<T> {
  readonly listener: Listener<T>;
  delivered: { value: T } | undefined;
}

export class Feed<T> {
  private readonly subs = new Set<Sub<T>>();
  private readonly equals: (a: T, b: T) => boolean;
  private readonly onError: (err: unknown) => void;
  private latest: { value: T } | undefined;

  constructor(equals: (a: T, b: T) => boolean, onError: (err: unknown) => void) {
    this.equals = equals;
    this.onError = onError;
  }

  get size(): number {
    return this.subs.size;
  }

  /** Subscribes; delivers the latest published value at once when there is one. */
  subscribe(listener: Listener<T>, onClose?: () => Promise<void> | void): Subscription {
    const sub: Sub<T> = { listener, delivered: undefined };
    this.subs.add(sub);
    if (this.latest !== undefined) this.deliver(sub, this.latest.value);
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        this.subs.delete(sub);
        await onClose?.();
      },
    };
  }

  /** Delivers `value` to every subscription whose last delivered value differs. */
  publish(value: T): void {
    this.latest = { value };
    for (const sub of [...this.subs]) this.deliver(sub, value);
  }

  clear(): void {
    this.subs.clear();
  }

  private deliver(sub: Sub<T>, value: T): void {
    if (sub.delivered !== undefined && this.equals(sub.delivered.value, value)) return;
    sub.delivered = { value };
    try {
      sub.listener(value);
    } catch (err) {
      this.onError(err);
    }
  }
}

/** Structural equality of JSON-like values (what coordinators publish). */
export function jsonEqual<T>(a: T, b: T): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
