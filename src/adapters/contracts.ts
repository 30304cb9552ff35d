/**
 * Every store interface Stem's runtime talks to. The worker, Beat, the workflow engine
 * and the CLI see only these; each backend (memory, sqlite, redis, postgres) implements
 * them and passes the shared contract suites in src/testing/.
 *
 * Times are epoch milliseconds throughout.
 */
import type { Envelope } from "../core/envelope.ts";
import type { TaskStatus } from "../core/states.ts";
import type {
  ConcurrencySlots,
  ControlBus,
  LockStore,
  RateLimiter,
  RevokeStore,
  ScheduleStore,
  TaskEventBus,
} from "./store-contracts.ts";
import type { WorkflowStore } from "./workflow-contracts.ts";

export type * from "./store-contracts.ts";
export type * from "./workflow-contracts.ts";
// ---------------------------------------------------------------------------------------
// Broker

/** A leased message handed to one consumer. */
export interface Delivery {
  envelope: Envelope;
  /** Broker handle for this delivery; ack/nack/extend use it. */
  receipt: string;
  queue: string;
  /** When the lease runs out, on the broker's clock (the server's for Redis and Postgres). */
  leaseExpiresAt: number;
  /**
   * How many times the broker has handed this message out, this delivery included (1 on
   * the first). Every fetch counts, lease-expiry redeliveries too; only a release with
   * `countAttempt: false` (a deferral) takes its delivery back. Independent of
   * `envelope.attempt`; the worker compares it with the task's delivery limit.
   */
  deliveries: number;
  /** The delivery before this one ended by its lease running out (its worker died or hung). */
  afterLeaseLoss: boolean;
}

export interface FetchOptions {
  /** Deliver at most this many messages. */
  max: number;
  /** Lease length for messages without their own `visibilityTimeoutMs`. */
  leaseMs: number;
  /** Identifies the consumer (worker id) holding the lease. */
  consumer: string;
  /** Wait up to this long for a message when none is ready (long poll). 0 = return at once. */
  waitMs?: number;
  /** Aborting ends the wait early with whatever is ready (possibly nothing). */
  signal?: AbortSignal;
}

export interface NackOptions {
  /** Put the message back (default) or drop it. */
  requeue?: boolean;
  /** Redeliver no sooner than this many ms from now. */
  delayMs?: number;
  /**
   * Count this as an attempt (default). False for deferrals such as rate limiting: the
   * delivery then does not count towards the delivery limit either (`Delivery.deliveries`).
   */
  countAttempt?: boolean;
}

/** A message moved aside because it could not or should not run. */
export interface DeadLetter {
  envelope: Envelope;
  queue: string;
  reason: string;
  meta: Record<string, unknown>;
  deadAt: number;
}

export interface DeadLetterQuery {
  queue?: string;
  limit?: number;
  offset?: number;
  /** Only entries dead-lettered at or after this time. */
  since?: number;
  /** Only entries dead-lettered before this time (retention purges older ones). */
  before?: number;
}

export interface DeadLetterPurge extends Omit<DeadLetterQuery, "offset"> {
  /** Delete nothing; return how many would be deleted. */
  dryRun?: boolean;
}

export interface ReplayOptions extends DeadLetterQuery {
  /** Replay only these envelope ids. */
  ids?: string[];
  /** Make replayed tasks visible after this many ms. */
  delayMs?: number;
  /** Report what would be replayed without changing anything. */
  dryRun?: boolean;
}

export interface ReplayResult {
  dryRun: boolean;
  /** The entries replayed (or that would be). */
  entries: DeadLetter[];
  /**
   * Entries not replayed because a task with their id is queued, delayed or in flight
   * again (the broker refused the publish as a duplicate). They stay dead letters. Empty
   * on a dry run.
   */
  skipped: DeadLetter[];
}

export interface QueueStats {
  queue: string;
  /** Ready to deliver now. */
  pending: number;
  /** Leased to a consumer. */
  inflight: number;
  /** Waiting for their notBefore. */
  delayed: number;
  dead: number;
}

export interface PublishResult {
  /** Ids stored by this call. */
  accepted: string[];
  /** Ids refused because a message with that id is already queued, delayed or in flight. */
  duplicates: string[];
}

/** Stores statuses, then publishes envelopes (`Broker.publishWithStatuses`). */
export type PublishWithStatuses = (
  statuses: TaskStatus[],
  envelopes: Envelope[],
  encoded?: readonly string[],
) => Promise<PublishResult>;

/**
 * Holds tasks between producers and workers, with at-least-once delivery: a fetched
 * message is leased, and returns to the queue when its lease runs out unacked.
 */
export interface Broker {
  /**
   * Stores envelopes (one round trip where the backend allows). An envelope whose id is
   * already queued, delayed or in flight is refused and reported as a duplicate.
   * Envelopes with `notBefore` in the future are held until then. `encoded`: each one's
   * `encodeEnvelope` JSON, in order, when the caller has it (a broker may store it as is).
   */
  publish(envelopes: Envelope[], encoded?: readonly string[]): Promise<PublishResult>;
  /**
   * Leases up to `max` ready messages from `queues`, higher priority first within a
   * queue, queues in the order given. Waits up to `waitMs` when none is ready.
   * Each delivery's `envelope.attempt` counts earlier deliveries. A stored message that
   * is not a valid envelope is dead-lettered with reason `undecodable` and skipped.
   */
  fetch(queues: string[], options: FetchOptions): Promise<Delivery[]>;
  /** Removes finished messages. Acking a delivery whose lease was lost is a no-op. */
  ack(deliveries: Delivery[]): Promise<void>;
  /**
   * Releases a message: back to the queue (attempt + 1 unless told otherwise) or dropped.
   * A no-op for a delivery whose lease was lost (a stale receipt).
   */
  nack(delivery: Delivery, options?: NackOptions): Promise<void>;
  /** Pushes the lease out to `now + ms`. False when the lease was already lost. */
  extendLease(delivery: Delivery, ms: number): Promise<boolean>;
  /**
   * Moves a message to its queue's dead-letter list with a reason, replacing an earlier
   * dead letter with the same id. A no-op for a delivery whose lease was lost.
   */
  deadLetter(delivery: Delivery, reason: string, meta?: Record<string, unknown>): Promise<void>;
  /** Newest first. */
  listDeadLetters(query?: DeadLetterQuery): Promise<DeadLetter[]>;
  getDeadLetter(id: string): Promise<DeadLetter | null>;
  /**
   * Re-publishes dead letters, oldest first, with `attempt` reset to 0 and
   * `meta["stem.replay.count"]` incremented, and removes those it published from the
   * dead-letter list, atomically per entry. An entry whose id is queued again is not
   * published: it stays a dead letter and is reported in `skipped`.
   */
  replayDeadLetters(options?: ReplayOptions): Promise<ReplayResult>;
  /**
   * Deletes matching dead letters, oldest first up to `limit`; returns how many (with
   * `dryRun`, how many it would delete, deleting nothing).
   */
  purgeDeadLetters(query?: DeadLetterPurge): Promise<number>;
  /** Deletes a queue's pending and delayed messages (not in-flight ones); returns how many. */
  purge(queue: string): Promise<number>;
  /** Counts per queue; every queue the broker has seen when `queues` is omitted. */
  stats(queues?: string[]): Promise<QueueStats[]>;
  /**
   * Optional: for a result backend on the same store, a function that stores statuses and
   * then publishes envelopes as one step (one round trip); null for other backends. The
   * producer uses it to write each `queued` status and its task together.
   */
  publishWithStatuses?(backend: ResultBackend): PublishWithStatuses | null;
  /**
   * Optional: `publishWithStatuses` for tasks whose ids the caller chose (Beat, canvas),
   * which may name a task that is still live: each status is stored only where the task
   * has none, an expired one or a finished one (a live task's status is left alone and
   * the broker refuses its duplicate). One round trip; null for other backends.
   */
  publishWithStatusesUnlessLive?(backend: ResultBackend): PublishWithStatuses | null;
  /**
   * Optional: `publishWithStatuses` for tasks that must run once under the ids the caller
   * chose (`Stem.enqueueOnce`: a canvas continued again by a redelivery), in one atomic
   * step: a task whose stored status shows it started or finished is neither stored nor
   * published (reported as a duplicate); one still `queued` keeps its status and is
   * published (refused while the broker holds it); a task with no status gets its status
   * and is published. Null for other backends: the producer then reads and publishes in
   * two steps, and a task finishing between them would be published again.
   */
  publishWithStatusesUnlessStarted?(backend: ResultBackend): PublishWithStatuses | null;
  /**
   * Optional: for a result backend on the same store, a function that stores statuses and
   * acks deliveries as one step, each status stored before its ack; null for other
   * backends. The worker uses it to record a batch of outcomes.
   */
  ackWithStatuses?(
    backend: ResultBackend,
  ): ((statuses: TaskStatus[], deliveries: Delivery[]) => Promise<void>) | null;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Result backend

export interface TaskStatusQuery {
  state?: TaskStatus["state"];
  queue?: string;
  name?: string;
  /** Only statuses last updated at or after this time. */
  updatedSince?: number;
  /** Only statuses last updated at or before this time. */
  updatedUntil?: number;
  limit?: number;
  offset?: number;
}

export interface GroupDescriptor {
  id: string;
  /** Number of members. */
  expected: number;
  meta?: Record<string, unknown>;
  ttlMs?: number;
}

export interface GroupStatus {
  id: string;
  expected: number;
  /** Member statuses by member index (the order the group was given in). */
  results: Record<number, TaskStatus>;
  completed: number;
  meta: Record<string, unknown>;
  /** The owner whose claimChord won the group's completion (set once). */
  claimedBy?: string;
}

/** A worker's periodic liveness report. */
export interface WorkerHeartbeat {
  workerId: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  inflight: number;
  processed: number;
  failed: number;
  startedAt: number;
  timestamp: number;
  extras?: Record<string, unknown>;
}

/**
 * One per-minute counter cell: `value` added up for (`minute`, `series`, `counter`).
 * Series and counter names are the caller's (see core/minute-counts.ts).
 */
export interface MinuteCount {
  /** Start of the minute (epoch ms, a multiple of 60,000). */
  minute: number;
  series: string;
  counter: string;
  value: number;
}

export interface MinuteCountQuery {
  /** First minute read (inclusive). */
  from: number;
  /** Minutes before this one are read (exclusive). */
  to: number;
  /** Only this series. */
  series?: string;
}

/** Keeps task states and results, group counters, worker heartbeats and per-minute counters. */
export interface ResultBackend {
  /**
   * Upserts statuses (whole records), except `timeline`: its entries are appended to the
   * task's kept history (`appendTimeline` in core/timeline.ts), in the same write. Expire
   * after `ttlMs` when given, else the backend default.
   */
  set(statuses: TaskStatus[], ttlMs?: number): Promise<void>;
  /** Null when missing or expired. With the task's timeline, when it has one. */
  get(id: string): Promise<TaskStatus | null>;
  /** As `get`, for many ids. */
  getMany(ids: string[]): Promise<(TaskStatus | null)[]>;
  /** Newest first; timelines may be left out. */
  list(query?: TaskStatusQuery): Promise<TaskStatus[]>;
  /** Resets a status's time to live. */
  expire(id: string, ttlMs: number): Promise<void>;
  /** Creates a group, or resets an existing one (results cleared). */
  initGroup(group: GroupDescriptor): Promise<void>;
  /**
   * Records member `index`'s status atomically and returns the group after the update;
   * recording the same index twice counts it once. Null when the group is missing or expired.
   */
  addGroupResult(groupId: string, index: number, status: TaskStatus): Promise<GroupStatus | null>;
  getGroup(groupId: string): Promise<GroupStatus | null>;
  /**
   * Claims the group's completion for `owner` (a member's task id): true for the first
   * owner to claim a live group, however many race, and again for that same owner, so a
   * claim whose reply was lost and is sent again still wins; false for every other owner
   * and for a missing or expired group.
   */
  claimChord(groupId: string, owner: string): Promise<boolean>;
  setHeartbeat(heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void>;
  getHeartbeat(workerId: string): Promise<WorkerHeartbeat | null>;
  /** Heartbeats not yet expired. */
  listHeartbeats(): Promise<WorkerHeartbeat[]>;
  /** Forgets a worker's heartbeat (a worker that stops removes its own); no-op when absent. */
  removeHeartbeat(workerId: string): Promise<void>;
  /**
   * Adds each value to its stored cell (a missing cell counts from 0), atomically per call:
   * concurrent writers never lose an increment. Cells older than a day may be dropped.
   */
  addMinuteCounts(counts: MinuteCount[]): Promise<void>;
  /** The stored cells of minutes in [from, to), oldest minute first. */
  readMinuteCounts(query: MinuteCountQuery): Promise<MinuteCount[]>;
  /** Deletes every cell of minutes before `before`. */
  pruneMinuteCounts(before: number): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Connections

/**
 * One open connection to a backend (a SQLite file, a Redis server, a Postgres database)
 * from which every store is made. Stores made from one connection share it; closing the
 * connection closes them all.
 */
export interface StoreConnection {
  /** The URL this connection was opened with, credentials removed. */
  readonly url: string;
  broker(): Broker;
  resultBackend(): ResultBackend;
  scheduleStore(): ScheduleStore;
  lockStore(): LockStore;
  revokeStore(): RevokeStore;
  rateLimiter(): RateLimiter;
  /** Global concurrency limits shared by every worker on the store. */
  concurrencySlots(): ConcurrencySlots;
  controlBus(): ControlBus;
  /** Task lifecycle events of the tasks whose statuses this store keeps. */
  taskEvents(): TaskEventBus;
  workflowStore(): WorkflowStore;
  /** One round trip to the backend; throws when it is unreachable. */
  ping(): Promise<void>;
  /**
   * Checks the stored data more deeply than `ping`, for `stem health`: an integrity check
   * where the backend has one (SQLite `PRAGMA quick_check`) and the schema version. Throws
   * StemError (`store_corrupt`, `schema_too_new`, `store_unavailable`) naming the problem;
   * returns the schema version, undefined for a backend without one (memory, Redis).
   */
  verify(): Promise<{ schemaVersion?: number }>;
  close(): Promise<void>;
}

/** Options every adapter understands (also settable as URL query parameters). */
export interface ConnectOptions {
  /** Key prefix (Redis) so several apps can share one server. Default `stem`. */
  prefix?: string;
  /** Schema (Postgres). Default `stem`. */
  schema?: string;
  /** Result time to live in ms. Default one day. */
  resultTtlMs?: number;
  /** TLS files; default from STEM_TLS_* environment variables. */
  tls?: TlsOptions;
  /**
   * Open only a store that already exists, never create one (for commands that only
   * read): a missing SQLite file or Postgres schema throws StoreMissingError instead.
   */
  existingOnly?: boolean;
}

export interface TlsOptions {
  caCertFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  allowInsecure?: boolean;
}
