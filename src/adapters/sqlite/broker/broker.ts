import type { FSWatcher } from "node:fs";
import type { Envelope } from "../../../core/envelope.ts";
import type {
  Broker,
  DeadLetter,
  DeadLetterPurge,
  DeadLetterQuery,
  Delivery,
  FetchOptions,
  NackOptions,
  PublishResult,
  PublishWithStatuses,
  QueueStats,
  ReplayOptions,
  ReplayResult,
  ResultBackend,
} from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { SqliteResultBackend } from "../results/result-backend.ts";
import { Wakeup } from "../wakeup.ts";
import { WATCHED_POLL_MS, watchWrites } from "../write-watcher.ts";
import { ackJobs } from "./ack-jobs.ts";
import { claimJobs, hasReadyJob, nextDueAt } from "./claim-jobs.ts";
import { deadLetterJob } from "./dead-letter-job.ts";
import {
  getDeadLetter,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
} from "./dead-letters.ts";
import { extendLease } from "./extend-lease.ts";
import { PublishBatcher } from "./publish-batch.ts";
import { purgeQueue } from "./purge-queue.ts";
import { queueStats } from "./queue-stats.ts";
import { releaseJob } from "./release-job.ts";

/** How often a waiting fetch polls where no file watcher tells it of other processes' writes. */
export const FETCH_POLL_MS = 40;

/**
 * A broker on a SQLite file that several processes share. Publishes of the same tick share
 * a write transaction; fetches lease jobs in short write transactions; a waiting fetch wakes at once when this connection publishes or any
 * process commits to the file (a watcher started by the first fetch that waits, so a
 * producer has none), and when the next delayed job or lease comes due. Without a working
 * watcher (`:memory:`, or a platform without file events) it polls every
 * {@link FETCH_POLL_MS} ms; with one, every {@link WATCHED_POLL_MS} ms as a safety net.
 */
export class SqliteBroker implements Broker {
  private readonly wakeup = new Wakeup();
  /** Publishes of the same tick share one write transaction. */
  private readonly batcher: PublishBatcher;
  /** Wakes waiting fetches when another process commits to the file; made on first wait. */
  private writes: FSWatcher | null | undefined;
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {
    this.batcher = new PublishBatcher(db, () => this.wakeup.wake());
  }

  /**
   * How long a waiting fetch may sleep without missing other processes' writes; watches
   * the file from the first call on (never after close()).
   */
  private pollMs(): number {
    if (this.writes === undefined && !this.closed) {
      this.writes = watchWrites(
        this.db.target,
        () => this.wakeup.wake(),
        () => {
          this.writes = null;
        },
      );
    }
    return this.writes ? WATCHED_POLL_MS : FETCH_POLL_MS;
  }

  async publish(envelopes: Envelope[], encoded?: readonly string[]): Promise<PublishResult> {
    return this.batcher.publish(envelopes, encoded);
  }

  /**
   * For a SQLite result backend on this database: stores the producer's `queued` statuses
   * and publishes their jobs in one write transaction. Null for any other backend.
   */
  publishWithStatuses(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, false);
  }

  /** `Broker.publishWithStatusesUnlessStarted`, in one write transaction. */
  publishWithStatusesUnlessStarted(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, true);
  }

  private publishingWith(
    backend: ResultBackend,
    unlessStarted: boolean,
  ): PublishWithStatuses | null {
    if (!(backend instanceof SqliteResultBackend) || !backend.usesDatabase(this.db)) return null;
    return (statuses, envelopes, encoded) =>
      this.batcher.publish(envelopes, encoded, {
        list: statuses,
        expiresAt: backend.defaultExpiry(),
        unlessStarted,
      });
  }

  async fetch(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    // Watch before the first look: a write between the look and the wait is then seen.
    if ((options.waitMs ?? 0) > 0) void this.pollMs();
    for (;;) {
      const mark = this.wakeup.mark;
      const now = this.db.now();
      // Look before taking the write lock: idle polling must not queue up writers.
      const got =
        options.max > 0 && hasReadyJob(this.db, queues, now)
          ? claimJobs(this.db, queues, options, now)
          : [];
      const left = deadline - Date.now();
      if (got.length > 0 || left <= 0 || options.signal?.aborted) return got;
      const due = options.max > 0 ? nextDueAt(this.db, queues, now) : null;
      const untilDue = due === null ? Number.POSITIVE_INFINITY : due - now;
      await this.wakeup.wait(Math.min(left, this.pollMs(), untilDue), options.signal, mark);
      if (this.closed || this.db.isClosed) return [];
    }
  }

  async ack(deliveries: Delivery[]): Promise<void> {
    ackJobs(this.db, deliveries);
  }

  async nack(delivery: Delivery, options: NackOptions = {}): Promise<void> {
    const released = releaseJob(this.db, delivery, options, this.db.now());
    if (released && options.requeue !== false) this.wakeup.wake();
  }

  async extendLease(delivery: Delivery, ms: number): Promise<boolean> {
    return extendLease(this.db, delivery, ms, this.db.now());
  }

  async deadLetter(
    delivery: Delivery,
    reason: string,
    meta: Record<string, unknown> = {},
  ): Promise<void> {
    deadLetterJob(this.db, delivery, reason, meta);
  }

  async listDeadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return listDeadLetters(this.db, query);
  }

  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    return getDeadLetter(this.db, id);
  }

  async replayDeadLetters(options: ReplayOptions = {}): Promise<ReplayResult> {
    const result = replayDeadLetters(this.db, options, this.db.now());
    if (!result.dryRun && result.entries.length > 0) this.wakeup.wake();
    return result;
  }

  async purgeDeadLetters(query: DeadLetterPurge = {}): Promise<number> {
    return purgeDeadLetters(this.db, query);
  }

  async purge(queue: string): Promise<number> {
    return purgeQueue(this.db, queue, this.db.now());
  }

  async stats(queues?: string[]): Promise<QueueStats[]> {
    return queueStats(this.db, queues, this.db.now());
  }

  /** Ends waiting fetches; the connection closes the database. */
  async close(): Promise<void> {
    this.closed = true;
    this.writes?.close();
    this.writes = null;
    this.wakeup.wake();
  }
}
