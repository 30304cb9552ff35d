/**
 * The smaller store interfaces: schedules, locks, revocations, rate limits, global
 * concurrency slots, the control channel and task events (re-exported by contracts.ts).
 *
 * Times are epoch milliseconds throughout.
 */
import type { ScheduleEntry, ScheduleExecution, ScheduleRunRecord } from "../core/schedule.ts";
import type { TaskEvent } from "../events/types.ts";

// ---------------------------------------------------------------------------------------
// Schedule store

export interface ScheduleStore {
  /**
   * Inserts or updates an entry. `entry.version` must equal the stored version (0 for a
   * new entry), else VersionConflictError. Returns the stored entry with the new version.
   * Store-kept state (run counts, last run, drift) is written as given.
   */
  upsert(entry: ScheduleEntry): Promise<ScheduleEntry>;
  get(id: string): Promise<ScheduleEntry | null>;
  list(): Promise<ScheduleEntry[]>;
  remove(id: string): Promise<boolean>;
  /** Enabled entries with nextRunAt <= now, earliest first. */
  due(now: number, limit?: number): Promise<ScheduleEntry[]>;
  /** Earliest nextRunAt among enabled entries, or null. */
  nextDueAt(): Promise<number | null>;
  /**
   * Records one dispatch: totalRunCount + 1, lastRunAt, drift, lastError or lastSuccessAt,
   * the new nextRunAt, and appends to the entry's history (latest 1,000 kept).
   * Bumps the version. Null when the entry no longer exists; VersionConflictError (and no
   * change) when `execution.expectedVersion` is given and the entry has moved on.
   */
  markExecuted(id: string, execution: ScheduleExecution): Promise<ScheduleEntry | null>;
  setEnabled(id: string, enabled: boolean): Promise<ScheduleEntry | null>;
  /** Newest first. */
  history(id: string, limit?: number): Promise<ScheduleRunRecord[]>;
  /** A number that changes whenever any entry changes; Beat polls it to wake early. */
  changeToken(): Promise<string>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Locks

/** Leases with an owner token; only the owner can renew or release. */
export interface LockStore {
  /** True when `owner` now holds `key` for `ttlMs`. Not re-entrant: false if anyone holds it. */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** False when `owner` does not hold a live lock on `key`. */
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** False when `owner` does not hold `key`. */
  release(key: string, owner: string): Promise<boolean>;
  ownerOf(key: string): Promise<string | null>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Revocations

export interface RevokeEntry {
  namespace: string;
  taskId: string;
  /** Monotonic; a lower version never replaces a higher one. */
  version: number;
  issuedAt: number;
  /** Abort the task if it is running, not only skip it. */
  terminate: boolean;
  reason?: string;
  requestedBy?: string;
  expiresAt?: number;
}

export interface RevokeStore {
  /** Stores entries whose version is higher than the stored one; returns what is stored now. */
  upsertAll(entries: RevokeEntry[]): Promise<RevokeEntry[]>;
  /**
   * Entries of a namespace, version ascending; with `afterVersion`, only those whose
   * version is higher (workers reload what changed since their last read).
   */
  list(namespace: string, afterVersion?: number): Promise<RevokeEntry[]>;
  /** Removes entries with expiresAt <= now; returns how many. */
  pruneExpired(namespace: string, now: number): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Rate limiting

export interface RateLimitDecision {
  allowed: boolean;
  /** When denied: ms until a token is available. */
  retryAfterMs: number;
}

/**
 * A token bucket per key shared by every limiter instance on the same store:
 * `tokens` per `intervalMs`, capacity `burst` (default 1: evenly spaced, as Celery does).
 */
export interface RateLimiter {
  acquire(
    key: string,
    rate: { tokens: number; intervalMs: number; burst?: number },
  ): Promise<RateLimitDecision>;
  /**
   * Deletes the buckets that are full again (the same as no bucket); returns how many went.
   * Stores also do this on their own (Redis key expiry, the SQLite prune, the Postgres
   * sweep, the memory limiter now and then), so a bucket per key (per tenant) stays bounded.
   */
  dropIdle(): Promise<number>;
  /** How many buckets the store holds whose key starts with `prefix`. */
  countBuckets(prefix: string): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Global concurrency

/** What a concurrency key looks like right now: its limit and its live holders. */
export interface SlotUsage {
  key: string;
  /** The limit last set or acquired with. */
  limit: number;
  /** Live (unexpired) slots. */
  used: number;
  /** Who holds them, sorted. */
  holders: string[];
}

/**
 * Counting semaphores shared by every process on the same store: at most `limit` holders
 * of a key at once. Each slot is a lease: a holder that stops renewing (a crashed
 * worker) loses its slot when the lease runs out. Every operation is atomic on the
 * store, and times are the store's clock where it has one (Redis, Postgres).
 */
export interface ConcurrencySlots {
  /**
   * Takes a slot of `key` for `holder` for `leaseMs` when fewer than `limit` others hold
   * one, and records `limit` as the key's limit. True when `holder` now holds a slot; a
   * holder that already holds one keeps it, with its lease renewed (a retried acquire
   * whose reply was lost is granted again).
   */
  acquire(key: string, holder: string, limit: number, leaseMs: number): Promise<boolean>;
  /** Extends `holder`'s live slot to now + leaseMs; false when it holds none (expired or released). */
  renew(key: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Gives the slot up; false when `holder` held no live slot. */
  release(key: string, holder: string): Promise<boolean>;
  /** Records `limit` for `key` without taking a slot (so observers see it before any task runs). */
  setLimit(key: string, limit: number): Promise<void>;
  /** The key's limit and live holders; null for a key never limited. */
  usage(key: string): Promise<SlotUsage | null>;
  /** Every limited key, sorted by key. */
  list(): Promise<SlotUsage[]>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Control channel

/**
 * Fan-out messaging between the CLI and live workers: every subscriber of a channel
 * gets every message published after it subscribed.
 */
export interface ControlBus {
  publish(channel: string, message: Record<string, unknown>): Promise<void>;
  /** Publishes several messages on one channel, in order, in as few round trips as it can. */
  publishMany?(channel: string, messages: Record<string, unknown>[]): Promise<void>;
  /** Resolves once the subscription is live; call the returned function to stop. */
  subscribe(
    channel: string,
    handler: (message: Record<string, unknown>) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Task events

/**
 * Fan-out of task lifecycle events between every process on a store: each subscriber gets
 * the batches published after it subscribed. Best effort: at most once, no replay; a
 * subscriber that is disconnected or too slow misses events.
 */
export interface TaskEventBus {
  /** Sends a batch of events (one round trip where the backend allows). */
  publish(events: TaskEvent[]): Promise<void>;
  /** Resolves once the subscription is live; call the returned function to stop. */
  subscribe(handler: (events: TaskEvent[]) => void): Promise<() => Promise<void>>;
  /**
   * False when no subscription can be live, so events need not be built or sent. Asked
   * after the writes the events describe are stored: a subscription that went live
   * earlier must make it true. Absent: somebody may always be listening.
   */
  anyoneListening?(): Promise<boolean>;
  close(): Promise<void>;
}
