// Runs core/fleet/election.ts over a LeaseLock (client-go's LeaderElector): every retry period it reads
// the lock, decides, and writes when the rule says so; between ticks a watchdog ends a leadership
// whose renew deadline passes while a tick hangs. Leader observation (leader(), watchLeader) comes
// from the same loop, so an observer sees the holder's lease expire on its own clock. The loop
// never throws and never overlaps itself; every lock call gets a timeout.
import {
  decideElection, expireLeadership, INITIAL_ELECTION_STATE, leaderOf, observe, releaseAction, settleElection,
  type ElectionState, type ElectionTiming, type LostReason, type WriteAction, type WriteOutcome,
} from '../core/fleet/election.js';
import type { Clock } from '../ports/clock.js';
import {
  CoordinatorError, LeaseLostError, type CampaignOptions, type CoordinationBackend, type LeaderSnapshot, type Leadership,
  type LeaseLostReason, type Listener, type Subscription,
} from '../ports/coordinator.js';
import { Feed } from './feed.js';
import { LockConflictError, type LeaseLock } from './lease-lock.js';
import { settleWithin, withTimeout } from './util.js';

export interface LeaseElectorOptions {
  readonly backend: CoordinationBackend;
  readonly identity: string;
  readonly lock: LeaseLock;
  readonly timing: ElectionTiming;
  readonly clock: Clock;
  readonly onError: (err: unknown) => void;
  /**
   * Runs once a leadership is won, before campaign() resolves (Kubernetes fences the desired-state
   * ConfigMap with the new epoch here). Retried every retry period until it succeeds or the
   * leadership ends.
   */
  readonly onAcquired?: (epoch: number, signal: AbortSignal) => Promise<void>;
}

interface Term {
  readonly epoch: number;
  readonly controller: AbortController;
  readonly leadership: Leadership;
  /** Set once onAcquired has succeeded. */
  announced: boolean;
}

interface Waiter {
  readonly resolve: (l: Leadership) => void;
  readonly reject: (err: unknown) => void;
}

export class LeaseElector {
  private readonly o: LeaseElectorOptions;
  private state: ElectionState = INITIAL_ELECTION_STATE;
  private term: Term | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly feed: Feed<LeaderSnapshot>;
  private serial: Promise<void> = Promise.resolve();
  private stopping: AbortController | undefined;
  private wake: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private watchdog: AbortController | undefined;

  constructor(options: LeaseElectorOptions) {
    this.o = options;
    this.feed = new Feed((a, b) => a.leaderId === b.leaderId && a.epoch === b.epoch, options.onError);
  }

  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run(this.stopping.signal);
  }

  /** Resigns a held lease, stops the loop and rejects pending campaigns. */
  async stop(deadlineMs: number): Promise<void> {
    if (!this.loop || !this.stopping) return;
    const loop = this.loop;
    const stopErr = new CoordinatorError(this.o.backend, 'the coordinator stopped');
    for (const w of this.waiters) w.reject(stopErr);
    this.waiters.clear();
    await settleWithin(this.o.clock, this.resign('stopped'), deadlineMs);
    this.endTerm('stopped');
    this.stopping.abort(stopErr);
    this.loop = undefined;
    await settleWithin(this.o.clock, loop, deadlineMs);
    this.feed.clear();
  }

  /** Stops the loop without releasing the lease, as a killed process would (tests of expiry). */
  abandon(): void {
    if (!this.loop || !this.stopping) return;
    const stopErr = new CoordinatorError(this.o.backend, 'the coordinator was abandoned');
    for (const w of this.waiters) w.reject(stopErr);
    this.waiters.clear();
    this.endTerm('stopped');
    this.stopping.abort(stopErr);
    this.loop = undefined;
    this.feed.clear();
  }

  campaign(options: CampaignOptions = {}): Promise<Leadership> {
    if (!this.loop) return Promise.reject(new CoordinatorError(this.o.backend, 'campaign() before start()'));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.term?.announced) return Promise.resolve(this.term.leadership);
    return new Promise<Leadership>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: (l) => { signal?.removeEventListener('abort', onAbort); resolve(l); },
        reject: (e) => { signal?.removeEventListener('abort', onAbort); reject(e); },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake?.abort(); // try at once rather than at the next tick
    });
  }

  /** Reads the lock now and answers from this elector's observation of it. */
  async leader(): Promise<LeaderSnapshot> {
    if (!this.loop) throw new CoordinatorError(this.o.backend, 'leader() before start()');
    await this.serialized(async () => {
      const current = await this.lockCall('read', (signal) => this.o.lock.get(signal));
      this.state = observe(this.state, current, this.o.clock.nowMs());
    }).catch((err: unknown) => {
      throw new CoordinatorError(this.o.backend, `cannot read ${this.o.lock.description}`, { cause: err });
    });
    return this.snapshot();
  }

  watchLeader(listener: Listener<LeaderSnapshot>): Subscription {
    return this.feed.subscribe(listener);
  }

  private snapshot(): LeaderSnapshot {
    return leaderOf(this.state, this.o.clock.nowMs());
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      await this.serialized(() => this.tick()).catch((err: unknown) => this.o.onError(err));
      this.feed.publish(this.snapshot());
      this.wake = new AbortController();
      try {
        await this.o.clock.sleep(this.o.timing.retryPeriodMs, AbortSignal.any([stop, this.wake.signal]));
      } catch {
        // woken early by a campaign, or stopped
      }
    }
  }

  private async tick(): Promise<void> {
    const { lock, clock, timing, identity } = this.o;
    let current;
    try {
      current = await this.lockCall('read', (signal) => lock.get(signal));
    } catch (err) {
      this.o.onError(new CoordinatorError(this.o.backend, `cannot read ${lock.description}`, { cause: err }));
      this.apply(expireLeadership(this.state, clock.nowMs(), timing));
      return;
    }
    const campaigning = this.waiters.size > 0 || this.term !== undefined;
    const startedAtMs = clock.nowMs();
    const step = decideElection({ nowMs: startedAtMs, identity, timing, current, campaigning }, this.state);
    this.apply(step);
    if (step.action.kind === 'hold') return;
    const outcome = await this.write(step.action);
    this.apply(settleElection(this.state, step.action, outcome, startedAtMs, clock.nowMs(), timing));
  }

  private async write(action: WriteAction): Promise<WriteOutcome> {
    const { lock } = this.o;
    try {
      const written = await this.lockCall('write', (signal) => (action.kind === 'create'
        ? lock.create(action.record, signal)
        : lock.update(action.record, action.version, signal)));
      return { ok: true, written };
    } catch (err) {
      if (!(err instanceof LockConflictError)) {
        this.o.onError(new CoordinatorError(this.o.backend, `cannot write ${lock.description}`, { cause: err }));
      }
      return { ok: false };
    }
  }

  /** Takes a step's state, ends or begins a term as it says. */
  private apply(step: { state: ElectionState; lost?: LostReason; acquired?: number }): void {
    this.state = step.state;
    if (step.lost !== undefined) this.endTerm(step.lost);
    if (step.acquired !== undefined) this.beginTerm(step.acquired);
    if (this.state.leading) this.armWatchdog();
  }

  private beginTerm(epoch: number): void {
    this.endTerm('taken'); // a previous term cannot still be running; defensive
    const controller = new AbortController();
    const leadership: Leadership = {
      agentId: this.o.identity,
      epoch,
      signal: controller.signal,
      resign: async () => {
        if (this.term?.epoch === epoch) await this.resign('resigned');
      },
    };
    const term: Term = { epoch, controller, leadership, announced: false };
    this.term = term;
    void this.announce(term);
  }

  /** Runs onAcquired (retrying), then resolves the waiting campaigns. */
  private async announce(term: Term): Promise<void> {
    const { onAcquired, clock, timing } = this.o;
    while (onAcquired && !term.controller.signal.aborted) {
      try {
        await withTimeout(clock, timing.retryPeriodMs, 'fencing', (signal) => onAcquired(term.epoch, signal), term.controller.signal);
        break;
      } catch (err) {
        if (term.controller.signal.aborted) return;
        this.o.onError(new CoordinatorError(this.o.backend, `epoch ${term.epoch}: cannot fence the desired state`, { cause: err }));
        await clock.sleep(timing.retryPeriodMs, term.controller.signal).catch(() => undefined);
      }
    }
    if (term.controller.signal.aborted || this.term !== term) return;
    term.announced = true;
    for (const w of this.waiters) w.resolve(term.leadership);
    this.waiters.clear();
  }

  private endTerm(reason: LeaseLostReason): void {
    const term = this.term;
    if (term === undefined) return;
    this.term = undefined;
    this.watchdog?.abort();
    this.watchdog = undefined;
    if (this.state.leading) this.state = { ...this.state, leading: false };
    term.controller.abort(new LeaseLostError(term.epoch, reason));
  }

  /** Ends the term at once when the renew deadline passes with no renewal, even mid-tick. */
  private armWatchdog(): void {
    this.watchdog?.abort();
    const watchdog = new AbortController();
    this.watchdog = watchdog;
    const { clock, timing } = this.o;
    const dueInMs = this.state.renewedAtMs + timing.renewDeadlineMs - clock.nowMs();
    clock.sleep(Math.max(0, dueInMs), watchdog.signal).then(() => {
      if (this.watchdog !== watchdog) return;
      const step = expireLeadership(this.state, clock.nowMs(), timing);
      if (step.lost !== undefined) this.apply(step);
    }, () => undefined);
  }

  /** Ends the term first (stop acting), then releases the lease so another candidate takes over at once. */
  private async resign(reason: 'resigned' | 'stopped'): Promise<void> {
    if (this.term === undefined) return;
    this.endTerm(reason);
    await this.serialized(async () => {
      const { lock, clock, identity } = this.o;
      // The observed record is the one this elector last wrote, unless someone wrote since.
      const release = releaseAction(this.state.observed, identity, clock.nowMs());
      if (release === undefined || this.term !== undefined) return;
      try {
        const written = await this.lockCall('release', (signal) => lock.update(release.record, release.version, signal));
        this.state = observe(this.state, written, clock.nowMs());
      } catch (err) {
        if (!(err instanceof LockConflictError)) this.o.onError(new CoordinatorError(this.o.backend, `cannot release ${lock.description}`, { cause: err }));
      }
    });
    this.feed.publish(this.snapshot());
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** One lock call, with the retry period as its timeout (a lock call never outlives a tick). */
  private lockCall<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withTimeout(this.o.clock, this.o.timing.retryPeriodMs, `${what} of ${this.o.lock.description}`, fn);
  }
}
