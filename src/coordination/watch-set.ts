// The watches a coordinator fed by polling or by a hub (kubernetes.ts, memory.ts) hands out: one
// member feed, one desired-state feed per agent (dropped when its last subscriber leaves), and
// every subscription tracked, so that stopping the coordinator closes them all.
import type { DesiredStateRecord, Listener, MemberInfo, Subscription } from '../ports/coordinator.js';
import { Feed, jsonEqual } from './feed.js';

export class WatchSet {
  readonly memberFeed: Feed<readonly MemberInfo[]>;
  readonly desiredFeeds = new Map<string, Feed<DesiredStateRecord | undefined>>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.onError = onError;
    this.memberFeed = new Feed(jsonEqual, onError);
  }

  /** Keeps `sub` until it closes, so that close() closes it. */
  track(sub: Subscription): Subscription {
    this.subscriptions.add(sub);
    return { close: async () => { this.subscriptions.delete(sub); await sub.close(); } };
  }

  /** Publishes the members just read, then subscribes `listener`. */
  watchMembers(current: readonly MemberInfo[], listener: Listener<readonly MemberInfo[]>): Subscription {
    this.memberFeed.publish(current);
    return this.track(this.memberFeed.subscribe(listener));
  }

  /** Subscribes `listener` to an agent's desired state, first publishing what `read` returns. */
  async watchDesired(agentId: string, read: () => DesiredStateRecord | undefined | Promise<DesiredStateRecord | undefined>, listener: Listener<DesiredStateRecord | undefined>): Promise<Subscription> {
    let feed = this.desiredFeeds.get(agentId);
    if (feed === undefined) {
      feed = new Feed(jsonEqual, this.onError);
      this.desiredFeeds.set(agentId, feed);
    }
    feed.publish(await read());
    const owned = feed;
    return this.track(feed.subscribe(listener, () => {
      if (owned.size === 0) this.desiredFeeds.delete(agentId);
    }));
  }

  /** Closes every subscription and drops the feeds. */
  close(): void {
    for (const s of this.subscriptions) void s.close();
    this.subscriptions.clear();
    this.memberFeed.clear();
    this.desiredFeeds.clear();
  }
}
