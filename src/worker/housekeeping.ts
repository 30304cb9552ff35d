/**
 * Retention the stores do not enforce by themselves, run by workers. Every interval one
 * worker (the holder of a LockStore lock; each worker when there is no lock store)
 * deletes dead letters older than the dead-letter retention, expired revocations and
 * queue resumes, and forgets heartbeats that have expired (from the heartbeat index of
 * backends that keep one). Each sweep deletes at most a batch of dead letters, so it never
 * holds a store busy for long; after a full batch the next sweep comes sooner.
 *
 * What the stores expire themselves (results, groups, heartbeats, locks, control
 * messages, schedule history) is pruned by each adapter; finished workflow runs by the
 * workflow sweeper (`runRetention`).
 */
import type { Broker, LockStore, ResultBackend, RevokeStore } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { logger } from "../core/logger.ts";
import { LockedSweep } from "../core/locked-sweep.ts";
import { PAUSE_NAMESPACE, REVOKE_NAMESPACE } from "./revocations.ts";

/** Dead letters are deleted this long after they were dead-lettered, unless configured. */
export const DEFAULT_DEAD_LETTER_RETENTION = "30d";
/** The LockStore key the workers' housekeeping shares. */
export const HOUSEKEEPING_LOCK_KEY = "stem:housekeeping";
/** How often a worker sweeps. */
export const HOUSEKEEPING_INTERVAL_MS = 60_000;
/** How soon the next sweep comes after one that deleted a full batch. */
const CATCH_UP_INTERVAL_MS = 1_000;
/** Dead letters deleted per sweep at most. */
export const HOUSEKEEPING_BATCH = 1_000;

export interface HousekeepingOptions {
  broker: Broker;
  backend: ResultBackend;
  revokeStore?: RevokeStore;
  /** Elects one sweeping worker; without one every worker sweeps. */
  lockStore?: LockStore;
  clock: Clock;
  /** Lock owner (the worker id). */
  owner: string;
  /** Dead letters older than this are deleted. Default 30 days; 0 keeps them forever. */
  deadLetterRetention?: DurationInput;
  /** Dead letters deleted per sweep at most. Default 1,000. */
  batch?: number;
}

/** What one sweep deleted. */
export interface HousekeepingCounts {
  deadLetters: number;
  revocations: number;
}

/** Periodic retention sweeps for one worker; see the module comment. */
export class Housekeeping {
  readonly deadLetterRetentionMs: number;
  private readonly batch: number;
  private readonly turns: LockedSweep<HousekeepingCounts>;

  constructor(private readonly options: HousekeepingOptions) {
    this.deadLetterRetentionMs = parseDuration(
      options.deadLetterRetention ?? DEFAULT_DEAD_LETTER_RETENTION,
      "deadLetterRetention",
    );
    this.batch = options.batch ?? HOUSEKEEPING_BATCH;
    this.turns = new LockedSweep({
      label: "housekeeping",
      locks: options.lockStore,
      key: HOUSEKEEPING_LOCK_KEY,
      owner: options.owner,
      // Held across sweeps; another worker takes over three intervals after this one stops.
      ttlMs: 3 * HOUSEKEEPING_INTERVAL_MS,
      clock: options.clock,
      work: () => this.sweep(),
      delayAfter: (done) =>
        done && done.deadLetters >= this.batch ? CATCH_UP_INTERVAL_MS : HOUSEKEEPING_INTERVAL_MS,
    });
  }

  /** Sweeps now and then every interval, in the background, until `stop()`. */
  start(): void {
    this.turns.start();
  }

  /** One sweep if this worker holds (or takes) the lock; null when it did not sweep. */
  tick(): Promise<HousekeepingCounts | null> {
    return this.turns.tick();
  }

  /** Deletes one batch of what has outlived its retention, whoever holds the lock. */
  async sweep(): Promise<HousekeepingCounts> {
    const { broker, backend, revokeStore, clock } = this.options;
    const now = clock.now();
    const deadLetters =
      this.deadLetterRetentionMs > 0
        ? await broker.purgeDeadLetters({
            before: now - this.deadLetterRetentionMs,
            limit: this.batch,
          })
        : 0;
    let revocations = 0;
    if (revokeStore) {
      for (const namespace of [REVOKE_NAMESPACE, PAUSE_NAMESPACE])
        revocations += await revokeStore.pruneExpired(namespace, now);
    }
    // Listing forgets expired heartbeats where the backend indexes them (Redis, memory).
    await backend.listHeartbeats();
    if (deadLetters + revocations > 0)
      logger.info(
        `housekeeping: deleted ${deadLetters} dead letter(s) older than the retention and ${revocations} expired revocation(s)`,
      );
    return { deadLetters, revocations };
  }

  /** Stops sweeping and gives the lock up so another worker can take over. Idempotent. */
  stop(): Promise<void> {
    return this.turns.stop();
  }
}
