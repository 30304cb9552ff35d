import type postgres from "postgres";
import type { Envelope } from "../../core/envelope.ts";
import { StemError } from "../../core/errors.ts";
import type { TaskStatus } from "../../core/states.ts";
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
} from "../contracts.ts";
import { isConnectionError, type PgDatabase } from "./database.ts";
import type { NotificationListener } from "./listener.ts";
import { PostgresResultBackend } from "./result-backend.ts";
import { ackJobs } from "./sql/ack-jobs.ts";
import { ackWithStatuses } from "./sql/ack-with-statuses.ts";
import { type ClaimedJob, claimJobs } from "./sql/claim-jobs.ts";
import { deadLetterJob } from "./sql/dead-letter-job.ts";
import { selectDeadLetters, toDeadLetter } from "./sql/dead-letter-rows.ts";
import { extendLease } from "./sql/extend-lease.ts";
import { getDeadLetter } from "./sql/get-dead-letter.ts";
import { rowEnvelope } from "./sql/job-rows.ts";
import { nextJobChangeIn } from "./sql/next-job-change.ts";
import { publishJobs } from "./sql/publish-jobs.ts";
import { publishUnlessStarted } from "./sql/publish-unless-started.ts";
import { publishWithStatuses } from "./sql/publish-with-statuses.ts";
import { purgeDeadLetters } from "./sql/purge-dead-letters.ts";
import { purgeQueue } from "./sql/purge-queue.ts";
import { queueStats } from "./sql/queue-stats.ts";
import { releaseJob } from "./sql/release-job.ts";
import { replayDeadLetters } from "./sql/replay-dead-letters.ts";

/** Re-check the store at least this often while waiting, in case a notification was lost. */
const FALLBACK_POLL_MS = 5000;
/**
 * ...and this often while the LISTEN connection is being restored, or when there is none
 * (behind PgBouncer without a `listen=` URL: waiting is polling).
 */
const DEGRADED_POLL_MS = 500;
/** Never re-check sooner than this (a lease expiring "now" must not spin the loop). */
const MIN_PAUSE_MS = 5;
/** Pause between retries when the database is unreachable during a long poll. */
const OUTAGE_RETRY_MS = 250;
/** Backoff bounds while completions wait for the database to come back. */
const COMPLETION_RETRY_MIN_MS = 100;
const COMPLETION_RETRY_MAX_MS = 1000;

interface Waiter {
  queues: Set<string>;
  /** Set by a notification; checked before sleeping so none is missed. */
  notified: boolean;
  wake?: () => void;
}

/**
 * A broker on a Postgres table. Consumers lease rows with `FOR UPDATE SKIP LOCKED`, so
 * any number of workers share queues without blocking each other; a lease that runs
 * out makes the row claimable again (counted as an attempt). Waiting fetches sleep on
 * LISTEN/NOTIFY: every insert into the jobs table notifies the queue's name on commit,
 * so a publish from any process wakes them at once; they also wake for the next
 * delayed job or lease expiry, and poll slowly in case a notification was lost. Without
 * a listener (PgBouncer in transaction mode, no direct URL) they poll every 500 ms.
 */
export class PostgresBroker implements Broker {
  private readonly waiters = new Set<Waiter>();
  private listening: Promise<unknown> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private closed = false;

  constructor(
    private readonly db: PgDatabase,
    private readonly listener: NotificationListener | null,
  ) {}

  /**
   * Publishes inside the caller's transaction (postgres.js `sql.begin`), so the jobs
   * exist only if the caller's own writes commit. Consumers are woken on commit.
   */
  publishWith(
    sql: postgres.Sql | postgres.TransactionSql,
    envelopes: Envelope[],
  ): Promise<PublishResult> {
    return publishJobs(sql, this.db.schema, envelopes);
  }

  publish(envelopes: Envelope[]): Promise<PublishResult> {
    return this.db.run("publish", (sql) => publishJobs(sql, this.db.schema, envelopes));
  }

  /**
   * The producer's two writes as one step, when `backend` is the result backend on this
   * broker's database: returns a function that stores the tasks' statuses and publishes
   * their envelopes in one statement (both commit together, so workers never see a job
   * before its status, and nothing is published when storing fails): one round trip.
   * Returns null for any other backend.
   */
  publishWithStatuses(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, (sql, ttlMs, statuses, envelopes) =>
      publishWithStatuses(sql, this.db.schema, statuses, ttlMs, envelopes),
    );
  }

  /** `publishWithStatuses` for caller-chosen ids: live tasks keep their statuses (one statement). */
  publishWithStatusesUnlessLive(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, (sql, ttlMs, statuses, envelopes) =>
      publishWithStatuses(sql, this.db.schema, statuses, ttlMs, envelopes, { unlessLive: true }),
    );
  }

  /** `Broker.publishWithStatusesUnlessStarted`, in one transaction (see publishUnlessStarted). */
  publishWithStatusesUnlessStarted(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, (sql, ttlMs, statuses, envelopes) =>
      publishUnlessStarted(sql, this.db.schema, statuses, ttlMs, envelopes),
    );
  }

  /** `publish` on this database, for the result backend on it (null for any other). */
  private publishingWith(
    backend: ResultBackend,
    publish: (
      sql: postgres.Sql,
      ttlMs: number,
      statuses: TaskStatus[],
      envelopes: Envelope[],
    ) => Promise<PublishResult>,
  ): PublishWithStatuses | null {
    if (!(backend instanceof PostgresResultBackend) || !backend.usesDatabase(this.db)) return null;
    return (statuses, envelopes) =>
      this.db.run("publish", (sql) => publish(sql, backend.ttlMs, statuses, envelopes));
  }

  async fetch(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    if (queues.length === 0 || options.max <= 0) return [];
    const waitMs = options.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    if (waitMs <= 0) return this.take(queues, options);

    const waiter: Waiter = { queues: new Set(queues), notified: false };
    this.waiters.add(waiter);
    try {
      if (this.listener) await this.startListening(this.listener, deadline, options.signal);
      for (;;) {
        waiter.notified = false;
        let pause: number;
        try {
          const got = await this.take(queues, options);
          if (got.length > 0 || Date.now() >= deadline || options.signal?.aborted || this.closed) {
            return got;
          }
          if (waiter.notified) continue;
          const next = await this.db.run("fetch", (sql) =>
            nextJobChangeIn(sql, this.db.schema, queues),
          );
          pause = Math.max(
            MIN_PAUSE_MS,
            Math.min(
              next ?? Number.POSITIVE_INFINITY,
              this.listener?.healthy ? FALLBACK_POLL_MS : DEGRADED_POLL_MS,
            ),
          );
        } catch (error) {
          // An outage during a long poll: keep trying until the wait is over.
          const cause = (error as { cause?: unknown }).cause;
          if (!isConnectionError(cause) || Date.now() + OUTAGE_RETRY_MS >= deadline) throw error;
          pause = OUTAGE_RETRY_MS;
        }
        if (waiter.notified) continue;
        await this.sleep(waiter, Math.min(pause, deadline - Date.now()), options.signal);
      }
    } finally {
      this.waiters.delete(waiter);
    }
  }

  /** One claim; rows that are not envelopes are dead-lettered as `undecodable` and skipped. */
  private async take(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    for (;;) {
      const rows = await this.db.run("fetch", (sql) =>
        claimJobs(sql, this.db.schema, queues, options),
      );
      const deliveries: Delivery[] = [];
      let undecodable = 0;
      for (const row of rows) {
        const delivery = await this.toDelivery(row);
        if (delivery) deliveries.push(delivery);
        else undecodable++;
      }
      // Only bad rows came back: look again rather than report an empty queue.
      if (deliveries.length > 0 || undecodable === 0) return deliveries;
    }
  }

  private async toDelivery(row: ClaimedJob): Promise<Delivery | null> {
    try {
      return {
        envelope: rowEnvelope(row.envelope, row),
        receipt: row.receipt,
        queue: row.queue,
        leaseExpiresAt: row.lease_expires_at.getTime(),
        deliveries: row.deliveries,
        afterLeaseLoss: row.lease_lost,
      };
    } catch (error) {
      await this.db.run("dead-letter", (sql) =>
        deadLetterJob(sql, this.db.schema, row, "undecodable", {
          error: (error as Error).message,
        }),
      );
      return null;
    }
  }

  /** LISTENs on the jobs channel once per broker, waiting at most until `deadline`. */
  private async startListening(
    listener: NotificationListener,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.listening ??= listener
      .listen(this.db.jobsChannel, {
        onMessage: (queue) => this.notify((w) => w.queues.has(queue)),
        onResync: () => this.notify(() => true),
      })
      .then((stop) => {
        this.unlisten = stop;
      })
      .catch((error) => {
        this.listening = null;
        throw error;
      });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abort = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    try {
      await Promise.race([this.listening, abort]);
    } finally {
      clearTimeout(timer);
    }
  }

  private notify(match: (w: Waiter) => boolean): void {
    for (const waiter of this.waiters) {
      if (!match(waiter)) continue;
      waiter.notified = true;
      waiter.wake?.();
    }
  }

  private async sleep(waiter: Waiter, ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        waiter.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      waiter.wake = done;
    });
  }

  async ack(deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const keys = deliveries.map((d) => ({ id: d.envelope.id, receipt: d.receipt }));
    await this.db.run("ack", (sql) => ackJobs(sql, this.db.schema, keys));
  }

  /**
   * The worker's completion writes as one step, when `backend` is the result backend on
   * this broker's database: returns a function that stores statuses and acks deliveries
   * in one statement (both commit together: no ack without its status), one round trip
   * and one commit per batch. Returns null for any other backend.
   *
   * While the database is unreachable (a restart, a dropped connection) the write is
   * retried with backoff for as long as every delivery's lease still holds: the tasks
   * have run, and writing their outcome late is better than running them again once
   * the lease runs out. After that, the error is thrown and the leases bring them back.
   */
  ackWithStatuses(
    backend: ResultBackend,
  ): ((statuses: TaskStatus[], deliveries: Delivery[]) => Promise<void>) | null {
    if (!(backend instanceof PostgresResultBackend) || !backend.usesDatabase(this.db)) return null;
    return async (statuses, deliveries) => {
      const keys = deliveries.map((d) => ({ id: d.envelope.id, receipt: d.receipt }));
      // Statuses alone (running, progress) are not retried: nothing comes back for them.
      const leaseEnds =
        deliveries.length > 0 ? Math.min(...deliveries.map((d) => d.leaseExpiresAt)) : 0;
      for (let backoff = COMPLETION_RETRY_MIN_MS; ; ) {
        try {
          return await this.db.run("store results and ack", (sql) =>
            ackWithStatuses(sql, this.db.schema, statuses, backend.ttlMs, keys),
          );
        } catch (error) {
          const unreachable = error instanceof StemError && error.code === "store_unavailable";
          if (!unreachable || this.closed || Date.now() + backoff >= leaseEnds) throw error;
          await new Promise((resolve) => setTimeout(resolve, backoff));
          backoff = Math.min(backoff * 2, COMPLETION_RETRY_MAX_MS);
        }
      }
    };
  }

  async nack(delivery: Delivery, options: NackOptions = {}): Promise<void> {
    const key = { id: delivery.envelope.id, receipt: delivery.receipt };
    if (options.requeue === false) {
      await this.db.run("nack", (sql) => ackJobs(sql, this.db.schema, [key]));
      return;
    }
    await this.db.run("nack", (sql) =>
      releaseJob(sql, this.db.schema, key, {
        countAttempt: options.countAttempt !== false,
        delayMs: options.delayMs ?? 0,
      }),
    );
  }

  extendLease(delivery: Delivery, ms: number): Promise<boolean> {
    const key = { id: delivery.envelope.id, receipt: delivery.receipt };
    return this.db.run("extend lease", (sql) => extendLease(sql, this.db.schema, key, ms));
  }

  async deadLetter(
    delivery: Delivery,
    reason: string,
    meta: Record<string, unknown> = {},
  ): Promise<void> {
    const key = { id: delivery.envelope.id, receipt: delivery.receipt };
    await this.db.run("dead-letter", (sql) =>
      deadLetterJob(sql, this.db.schema, key, reason, meta),
    );
  }

  async listDeadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    const rows = await this.db.run("list dead letters", (sql) =>
      selectDeadLetters(sql, this.db.schema, query, "newest"),
    );
    return rows.map(toDeadLetter);
  }

  getDeadLetter(id: string): Promise<DeadLetter | null> {
    return this.db.run("get dead letter", (sql) => getDeadLetter(sql, this.db.schema, id));
  }

  replayDeadLetters(options: ReplayOptions = {}): Promise<ReplayResult> {
    return this.db.run("replay dead letters", (sql) =>
      replayDeadLetters(sql, this.db.schema, options),
    );
  }

  purgeDeadLetters(query: DeadLetterPurge = {}): Promise<number> {
    return this.db.run("purge dead letters", (sql) => purgeDeadLetters(sql, this.db.schema, query));
  }

  purge(queue: string): Promise<number> {
    return this.db.run("purge", (sql) => purgeQueue(sql, this.db.schema, queue));
  }

  stats(queues?: string[]): Promise<QueueStats[]> {
    return this.db.run("stats", (sql) => queueStats(sql, this.db.schema, queues));
  }

  /** Stops listening and wakes waiting fetches (which then return what they have). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify(() => true);
    const stop = this.unlisten;
    this.unlisten = null;
    await stop?.();
  }
}
