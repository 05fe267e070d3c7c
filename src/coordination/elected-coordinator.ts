// What the coordinators built on a LeaseElector and a WatchSet (kubernetes.ts, memory.ts) share:
// the election part of the Coordinator port, handed to the elector, its leader watch tracked with
// the other watches so that stopping closes it.
import type { CampaignOptions, LeaderSnapshot, Leadership, Listener, Subscription } from '../ports/coordinator.js';
import type { LeaseElector } from './lease-elector.js';
import type { WatchSet } from './watch-set.js';

export abstract class ElectedCoordinator {
  protected abstract readonly elector: LeaseElector;
  protected abstract readonly watches: WatchSet;
  /** Throws unless the coordinator is started. */
  protected abstract ensureStarted(): void;

  campaign(options?: CampaignOptions): Promise<Leadership> {
    return this.elector.campaign(options);
  }

  leader(): Promise<LeaderSnapshot> {
    return this.elector.leader();
  }

  async watchLeader(listener: Listener<LeaderSnapshot>): Promise<Subscription> {
    this.ensureStarted();
    return this.watches.track(this.elector.watchLeader(listener));
  }
}
