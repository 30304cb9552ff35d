/**
 * Every store interface Stem's runtime talks to. The worker, Beat, the workflow engine
 * and the CLI see only these; each backend (memory, sqlite, redis, postgres) implements
 * them and passes the shared contract suites in src/testing/.
 *
 * Times are epoch milliseconds throughout.
 */
import type { Envelope } from "../core/envelope.ts";
import type { ScheduleEntry, ScheduleExecution, ScheduleRunRecord } from "../core/schedule.ts";
import type { TaskStatus } from "../core/states.ts";
import type { TaskEvent } from "../events/types.ts";

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

// ---------------------------------------------------------------------------------------
// Workflows

/** Where a workflow run is in its life. */
export type WorkflowStatus = "running" | "suspended" | "completed" | "failed" | "cancelled";

/** Limits after which a run is cancelled automatically (ms). */
export interface WorkflowCancellationPolicy {
  /** Cancel a run that has existed this long, whatever it is doing. */
  maxRunDuration?: number;
  /** Cancel a run that has stayed suspended (sleeping or waiting for an event) this long. */
  maxSuspendDuration?: number;
}

/** One durable workflow run as the store keeps it. Absent values are null. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  status: WorkflowStatus;
  /** Number of distinct steps checkpointed (`step#0`, `step#1` count as one step). */
  cursor: number;
  /** The caller's params plus runtime metadata under `__stem.workflow.*` keys. */
  params: Record<string, unknown>;
  parentRunId: string | null;
  createdAt: number;
  /** Bumped by every change, including each saved checkpoint. */
  updatedAt: number;
  /** The final result once completed. */
  result: unknown;
  /** The step last marked running. */
  currentStep: string | null;
  /** The topic a suspended run waits on. */
  waitTopic: string | null;
  /** When a sleeping run (or an event wait with a deadline) becomes due. */
  resumeAt: number | null;
  /** The last step failure: `{ error, type, stack, at, terminal }`. */
  lastError: Record<string, unknown> | null;
  /**
   * While suspended, what the suspension recorded (`type`, `step`, `iteration`,
   * `resumeAt`, `topic`, ...); once resumed, the same with the resume `payload`.
   * An empty object once completed.
   */
  suspensionData: Record<string, unknown> | null;
  /** The execution holding the run's lease (one id per execution, not per worker). */
  ownerId: string | null;
  leaseExpiresAt: number | null;
  /**
   * The fencing token of the latest claim: each claim by a new owner takes the next number
   * (from 1; 0 = never claimed). Writes fenced with an older token are refused.
   */
  fencingToken: number;
  cancellationPolicy: WorkflowCancellationPolicy | null;
  /** Why the run was cancelled: `{ reason, cancelledAt, ... }`. */
  cancellationData: Record<string, unknown> | null;
}

/** What `createRun` takes. */
export interface CreateWorkflowRun {
  workflow: string;
  params?: Record<string, unknown>;
  /** Caller-chosen id (default: a new UUID v7). A duplicate is refused. */
  runId?: string;
  parentRunId?: string;
  cancellationPolicy?: WorkflowCancellationPolicy;
}

/** A saved checkpoint. */
export interface WorkflowStepEntry {
  /** Checkpoint name: the step name, with `#<iteration>` for auto-versioned steps. */
  name: string;
  value: unknown;
  /** Insertion order within the run, from 0. */
  position: number;
  completedAt: number;
}

/** A run suspended until an event on `topic` arrives. */
export interface WorkflowWatcher {
  runId: string;
  stepName: string;
  topic: string;
  /** The suspension data recorded with the watcher. */
  data: Record<string, unknown>;
  createdAt: number;
  /** When the wait times out (the run is then due), or null. */
  deadline: number | null;
}

/** A watcher resolved by an event: the run is resumed with `resumeData`. */
export interface WorkflowWatcherResolution {
  runId: string;
  stepName: string;
  topic: string;
  /** The watcher's data plus `payload`, `topic` and `deliveredAt`. */
  resumeData: Record<string, unknown>;
}

/**
 * Fences a write to the execution that makes it: `fence` is the token its `claimRun`
 * returned. A fenced write is refused with WorkflowFenceError (nothing changed) when the
 * run has been claimed since; without `fence` the write is not fenced.
 */
export interface WorkflowFence {
  fence?: number;
}

export interface WorkflowRunQuery {
  workflow?: string;
  status?: WorkflowStatus;
  /** Default 50. */
  limit?: number;
  offset?: number;
}

/**
 * Durable state of workflow runs: the runs, their checkpoints, suspensions (sleeps and
 * event watchers) and execution leases. Times come from the store's clock. Operations
 * that change a run do nothing to a run that is completed, failed or cancelled (except
 * `rewindToStep`, which revives it), and throw StemError("not_found") for an unknown run.
 */
export interface WorkflowStore {
  /** Creates a run with status `running` and cursor 0; returns its id. A duplicate `runId` throws StemError("conflict"). */
  createRun(run: CreateWorkflowRun): Promise<string>;
  /** Null when unknown. */
  get(runId: string): Promise<WorkflowRun | null>;
  /** Newest first. */
  listRuns(query?: WorkflowRunQuery): Promise<WorkflowRun[]>;
  /** Running runs that no one holds a live lease on, oldest update first. */
  listRunnableRuns(options?: { limit?: number; offset?: number }): Promise<WorkflowRun[]>;

  /** A checkpoint's value; undefined when there is none. */
  readStep(runId: string, step: string): Promise<unknown>;
  /** Saves (or overwrites) a checkpoint and bumps the run's `updatedAt` and cursor, atomically. */
  saveStep(runId: string, step: string, value: unknown, options?: WorkflowFence): Promise<void>;
  /** Checkpoints in insertion order. */
  listSteps(runId: string): Promise<WorkflowStepEntry[]>;
  /**
   * Deletes the checkpoint of `step` (every `step#n`) and every later one, sets the cursor
   * to the step's index and suspends the run with suspensionData
   * `{ step, iteration: 0, iterationStep: step }` (clearing its result, error, waits and
   * cancellation) so it can be resumed from there. StemError("not_found") when the run has
   * no checkpoint for `step`.
   */
  rewindToStep(runId: string, step: string): Promise<void>;

  /** Suspends the run until `resumeAt`; it is then returned by `dueRuns`. */
  suspendUntil(
    runId: string,
    step: string,
    resumeAt: number,
    data?: Record<string, unknown>,
    options?: WorkflowFence,
  ): Promise<void>;
  /**
   * Atomically suspends the run waiting on `topic` and registers its watcher (one per run;
   * a new one replaces the old). With a deadline the run is also due then. When an event
   * kept by `resolveWatchers` (`retainFor`) is waiting on the topic, the oldest one is
   * taken (and deleted) in the same step and resolves the new watcher at once: the run is
   * resumed as by `resolveWatchers`, and its resolution is returned (null otherwise).
   */
  suspendOnTopic(
    runId: string,
    step: string,
    topic: string,
    options?: { deadline?: number; data?: Record<string, unknown> } & WorkflowFence,
  ): Promise<WorkflowWatcherResolution | null>;
  /**
   * Atomically takes up to `limit` (default 256) watchers of `topic`, oldest first, and
   * resumes their runs (status running, suspensionData = resumeData): each waiting run is
   * resolved by exactly one caller, however many emit at once. With `retainFor` (ms), an
   * event that resolves no watcher is kept that long, in the same atomic step, for the next
   * run to wait on the topic (`suspendOnTopic`); each kept event resumes one run, oldest first.
   */
  resolveWatchers(
    topic: string,
    payload: unknown,
    options?: { limit?: number; retainFor?: number },
  ): Promise<WorkflowWatcherResolution[]>;
  /** Watchers of `topic`, oldest first. */
  listWatchers(topic: string): Promise<WorkflowWatcher[]>;
  /** Ids of suspended runs waiting on `topic`. */
  runsWaitingOn(topic: string): Promise<string[]>;
  /**
   * Takes up to `limit` (default 256) suspended runs due at `now` (resumeAt or watcher
   * deadline <= now), earliest first, and drops their watchers so a late event cannot
   * resume them twice. A taken run is not returned again for a redelivery window (one
   * minute): resume or cancel it meanwhile; if its taker died, it comes back after that.
   */
  dueRuns(now: number, limit?: number): Promise<string[]>;

  /** Status running, recording the step being executed; bumps updatedAt. */
  markRunning(runId: string, options?: { stepName?: string } & WorkflowFence): Promise<void>;
  /** Status completed with the result; suspension data becomes `{}`; lease and waits cleared. */
  markCompleted(runId: string, result: unknown, options?: WorkflowFence): Promise<void>;
  /**
   * Records `lastError`. Non-terminal: the run stays running (it will be retried).
   * Terminal: status failed.
   */
  markFailed(
    runId: string,
    error: { message: string; type?: string; stack?: string },
    options?: { terminal?: boolean } & WorkflowFence,
  ): Promise<void>;
  /** Status running, waits cleared; `data` (when given) becomes the suspension data to resume with. */
  markResumed(runId: string, data?: Record<string, unknown>): Promise<void>;
  /**
   * Status cancelled with cancellationData `{ reason, cancelledAt, ...details }`; waits and
   * lease cleared. False when the run is already finished.
   */
  cancel(runId: string, reason?: string, details?: Record<string, unknown>): Promise<boolean>;

  /**
   * Takes the run's execution lease for one execution (`ownerId` names that execution)
   * when it is free or expired, and returns the claim's fencing token (the run's previous
   * token + 1), which the execution passes as `fence` to its writes. A repeat by the
   * holder (a retried call) extends the lease and returns the same token. Null when
   * another owner holds a live lease or the run is finished.
   */
  claimRun(runId: string, ownerId: string, leaseMs: number): Promise<number | null>;
  /** Extends the lease; false when `ownerId` (with `fence`, that claim) no longer holds it. */
  renewRunLease(
    runId: string,
    ownerId: string,
    leaseMs: number,
    options?: WorkflowFence,
  ): Promise<boolean>;
  /** Gives the lease up; a no-op unless `ownerId` (with `fence`, that claim) holds it. */
  releaseRun(runId: string, ownerId: string, options?: WorkflowFence): Promise<void>;
  /**
   * Deletes completed, failed and cancelled runs last updated before `before` (epoch ms),
   * with their checkpoints, oldest update first, up to `limit` (default 1000) per call, and drops kept events
   * whose time has passed; returns how many runs it deleted. With `dryRun` it deletes
   * nothing and returns how many runs it would delete (all of them, ignoring `limit`).
   */
  pruneRuns(before: number, options?: { limit?: number; dryRun?: boolean }): Promise<number>;
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
