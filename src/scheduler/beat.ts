/**
 * Beat: turns due schedule entries into tasks.
 *
 * Beat sleeps until the earliest due entry (never polling in a busy loop) and wakes early
 * when the schedule store changes (it polls the store's cheap change token, by default
 * every second, and `wake()` wakes it at once). For each due entry it takes the lock
 * `stem:schedule:<id>` in the lock store, re-reads the entry (another Beat may have
 * dispatched it meanwhile), enqueues the task through the producer and records the run
 * with `markExecuted`. Locking and re-reading happen `prepareAhead` (500 ms) before the
 * due time, so at the due time only the publish is left. Due entries are handled in
 * batches: every task of a batch is published before any run is recorded. Several Beat
 * processes can share one schedule store and lock store: each due time is dispatched once.
 *
 * Exactly once, beyond the lock: every dispatch carries a deterministic task id,
 * `sched-<entry id>-<due time ms>`. Before publishing, Beat looks the id up in the result
 * backend (a task that already ran or is running is not sent again); the broker refuses
 * an id it already holds; and Beat records a run only if the entry's version is still the
 * one it read. So a Beat that loses its lock mid-dispatch (a
 * paused process) and the Beat that takes over do not both fire the same due time.
 *
 * Jitter: an entry's `jitter` delays its task by a random 0..jitter, applied as the
 * task's `eta` (the broker holds it), so Beat itself never sleeps on one entry.
 *
 * Missed runs (see missed-runs.ts): an entry overdue by no more than `missedRunGrace`
 * (default twice the lock TTL — a failover, a slow batch) fires each due time, late. An
 * entry overdue by more (Beat was down) fires once, for the latest due time that has
 * passed; Beat logs how many runs it skipped and continues with the next due time after
 * that. A restarted Beat therefore neither loses the current run nor fires a storm.
 *
 * A publish that fails (e.g. the broker is unreachable) is tried again, backing off, until
 * the missed-run grace after its due time runs out (a broker failover at the due time
 * loses no run); a publish that still fails, or fails for good (an unknown task), is
 * recorded as a failed run with its error, and the entry moves on to its next due time. Entries past `expireAt` are
 * disabled without running; entries with no more runs (run-once, clocked, an interval's
 * `endAt`) are disabled after their last dispatch.
 */
import { hostname } from "node:os";
import type { LockStore, ScheduleStore } from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { toError, VersionConflictError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { signals } from "../core/signals.ts";
import { wasPublished } from "../core/states.ts";
import { updateEntry } from "./apply.ts";
import { scheduledTaskId } from "./dispatch-id.ts";
import { byDueTime, type Dispatch, publishDispatches, reportDispatch } from "./beat-dispatch.ts";
import {
  type BeatOptions,
  type BeatProducer,
  type BeatSkip,
  type BeatStats,
  resolveBeatSettings,
} from "./beat-options.ts";
import { HeldLocks } from "./held-locks.ts";
import { decideMissedRuns } from "./missed-runs.ts";
import { type NextRunOptions, nextRunAt } from "./next-run.ts";

export type { BeatOptions, BeatProducer, BeatSkip, BeatStats } from "./beat-options.ts";
export { scheduleLockKey } from "./held-locks.ts";

const LOG_REPEAT_MS = 60_000;

/** Room for other due entries (held by other Beats) when re-reading a batch with due(). */
const REREAD_SLACK = 100;

/**
 * The scheduler process: `await beat.start()`, later `await beat.stop()`. See the top of
 * this file for what it guarantees.
 */
export class Beat {
  readonly id: string;
  readonly stats: BeatStats = {
    ticks: 0,
    dispatched: 0,
    alreadyDispatched: 0,
    failed: 0,
    contended: 0,
    skippedRuns: 0,
    expired: 0,
  };
  private readonly store: ScheduleStore;
  private readonly locks: LockStore;
  private readonly stem: BeatProducer;
  private readonly clock: Clock;
  private readonly lockTtlMs: number;
  private readonly graceMs: number;
  private readonly maxBatch: number;
  private readonly pollMs: number;
  private readonly retryMs: number;
  private readonly aheadMs: number;
  /** Resolves start(): called whenever the loop starts waiting. */
  private onIdle: () => void = () => {};
  /** Aborted by stop(): ends a wait for a prepared batch's due time. */
  private stopController = new AbortController();
  private readonly random: () => number;
  private readonly onSkip: (skip: BeatSkip) => void;
  /** Entries to leave alone until a time (locked elsewhere, failing). */
  private readonly deferred = new Map<string, number>();
  private wakeController = new AbortController();
  private stopping = false;
  /** Set by wake(); cleared when a tick starts, so a wake during a tick is not lost. */
  private woken = false;
  private loop: Promise<void> | null = null;
  private lastError: { message: string; at: number } | null = null;

  constructor(options: BeatOptions) {
    this.store = options.scheduleStore;
    this.locks = options.lockStore;
    this.stem = options.stem;
    this.clock = options.clock ?? systemClock;
    const settings = resolveBeatSettings(options);
    this.lockTtlMs = settings.lockTtlMs;
    this.graceMs = settings.graceMs;
    this.maxBatch = settings.maxBatch;
    this.pollMs = settings.pollMs;
    this.retryMs = settings.retryMs;
    this.aheadMs = settings.aheadMs;
    this.id =
      options.id ?? `beat-${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.random = options.random ?? Math.random;
    this.onSkip = options.onSkip ?? ((skip) => logger.warn(skip.message));
  }

  /** True between start() and the end of stop(). */
  get running(): boolean {
    return this.loop !== null;
  }

  /**
   * Starts the loop in the background and resolves once Beat has dispatched what is due
   * now and starts waiting (for the next due time, or for the due time of entries it has
   * prepared). Entries that are enabled but were stored without a next run (e.g. upserted
   * directly) get one computed from now first.
   */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    this.stopController = new AbortController();
    try {
      await this.initialiseEntries();
    } catch (error) {
      this.reportError("could not initialise schedule entries", error);
    }
    logger.info(
      `beat ${this.id} started (lock ttl ${formatDuration(this.lockTtlMs)}, missed-run grace ${formatDuration(this.graceMs)})`,
    );
    const idle = new Promise<void>((resolve) => {
      this.onIdle = resolve;
    });
    this.loop = this.run();
    await idle;
  }

  /** Stops after the batch in progress (if any) is recorded and its locks released. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort();
    this.wake();
    const loop = this.loop;
    if (loop) await loop;
    this.loop = null;
  }

  /** Wakes a sleeping Beat to look for due entries now (e.g. after changing the store in-process). */
  wake(): void {
    this.woken = true;
    const controller = this.wakeController;
    this.wakeController = new AbortController();
    controller.abort();
  }

  /**
   * Dispatches the entries due now (up to maxBatch) once and returns how many tasks this
   * call published. start() runs this in its loop; tests and one-shot scripts can call it.
   * With `aheadMs`, entries due within that time are prepared now (locked, re-read) and
   * published when their due time comes.
   */
  async tick(aheadMs = 0): Promise<number> {
    this.stats.ticks++;
    const now = this.clock.now();
    for (const [id, until] of this.deferred) if (until <= now) this.deferred.delete(id);
    const horizon = now + aheadMs;
    const due = await this.store.due(horizon, this.maxBatch);
    const ready = due.filter((e) => !this.deferred.has(e.id));
    if (ready.length === 0) return 0;
    const before = this.stats.dispatched;
    await this.dispatchBatch(ready, horizon);
    return this.stats.dispatched - before;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        this.woken = false;
        await this.tick(this.aheadMs);
        if (this.stopping) break;
        // The token is read before the due time, so a change made after that read wakes us.
        const token = await this.store.changeToken();
        const wakeAt = await this.nextWakeAt();
        // start() returns once Beat is asleep (tests with a fake clock rely on it).
        this.onIdle();
        await this.sleepUntil(wakeAt, token);
        failures = 0;
        this.lastError = null;
      } catch (error) {
        failures++;
        this.reportError("tick failed", error);
        const pause = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        this.onIdle();
        await this.clock.sleep(pause, this.wakeController.signal);
      }
    }
    this.onIdle();
    logger.info(`beat ${this.id} stopped`);
  }

  /** Logs an error, but the same message at most once a minute (a store outage). */
  private reportError(what: string, error: unknown): void {
    const message = toError(error).message;
    const now = this.clock.now();
    if (this.lastError?.message === message && now - this.lastError.at < LOG_REPEAT_MS) return;
    this.lastError = { message, at: now };
    logger.error(`beat ${this.id}: ${what}: ${message}`);
  }

  /**
   * When to look again: `prepareAhead` before the earliest due time, or the end of a
   * deferral when something within reach is deferred.
   */
  private async nextWakeAt(): Promise<number> {
    const next = await this.store.nextDueAt();
    const now = this.clock.now();
    if (next === null) return Number.POSITIVE_INFINITY;
    if (next - this.aheadMs > now) return next - this.aheadMs;
    // Something is due (or about to be) but deferred (another Beat holds it): wait for the deferral.
    let soonest = Number.POSITIVE_INFINITY;
    for (const until of this.deferred.values()) if (until > now) soonest = Math.min(soonest, until);
    return soonest === Number.POSITIVE_INFINITY ? now : soonest;
  }

  /** Sleeps until `target`, a wake(), stop(), or a change of the store's change token. */
  private async sleepUntil(target: number, token: string): Promise<void> {
    if (target <= this.clock.now() || this.stopping || this.woken) return;
    const signal = this.wakeController.signal;
    while (!this.stopping && !signal.aborted) {
      const left = target - this.clock.now();
      if (left <= 0) return;
      await this.clock.sleep(Math.min(left, this.pollMs), signal);
      if (this.stopping || signal.aborted || this.clock.now() >= target) return;
      if ((await this.store.changeToken()) !== token) return;
    }
  }

  /** Leaves an entry alone for retryDelay, counted from `from` (default now). */
  private defer(id: string, from = this.clock.now()): void {
    this.deferred.set(id, Math.max(from, this.clock.now()) + this.retryMs);
  }

  /** Gives a next run to enabled entries stored without one (and never run). */
  private async initialiseEntries(): Promise<void> {
    for (const entry of await this.store.list()) {
      if (!entry.enabled || entry.nextRunAt !== undefined || entry.lastRunAt !== undefined)
        continue;
      await updateEntry(
        this.store,
        entry.id,
        (stored) => {
          if (!stored || !stored.enabled || stored.nextRunAt !== undefined) return null;
          const next = nextRunAt(stored, this.clock.now(), this.nextRunOptions(stored.id));
          return next === null ? null : { ...stored, nextRunAt: next };
        },
        this.clock,
      );
    }
  }

  private nextRunOptions(entryId: string): NextRunOptions {
    return {
      onSkip: (skip) =>
        this.onSkip({
          entryId,
          reason: "no-event",
          message: `schedule "${entryId}": ${skip.message}`,
        }),
    };
  }

  private async dispatchBatch(candidates: ScheduleEntry[], horizon: number): Promise<void> {
    const held = await HeldLocks.acquire(
      this.locks,
      this.clock,
      this.id,
      this.lockTtlMs,
      candidates.map((e) => e.id),
    );
    for (const entry of candidates) {
      if (!held.owns(entry.id)) {
        this.stats.contended++;
        // The holder dispatches it at its due time: look again just after.
        this.defer(entry.id, entry.nextRunAt);
      }
    }
    if (held.size === 0) return;
    try {
      const dispatches = await this.plan(
        candidates.filter((e) => held.owns(e.id)),
        horizon,
      );
      const published: Dispatch[] = [];
      // Publish each due time's dispatches when it comes; record them all afterwards.
      for (const group of byDueTime(dispatches)) {
        const wait = group[0].scheduledFor - this.clock.now();
        if (wait > 0) {
          this.onIdle();
          await this.clock.sleep(wait, this.stopController.signal);
        }
        if (this.stopping) break; // what was published is still recorded below
        for (const d of group) {
          signals.scheduleEntryDue.emit({
            entryId: d.entry.id,
            taskName: d.entry.taskName,
            scheduledFor: d.scheduledFor,
          });
        }
        const statuses = await this.stem.backend.getMany(group.map((d) => d.taskId));
        group.forEach((d, i) => {
          d.already = wasPublished(statuses[i]);
        });
        // A Beat paused past its lock's end must not publish: someone else may have it now.
        await held.confirm();
        const mine = group.filter((d) => {
          if (held.owns(d.entry.id)) return true;
          this.defer(d.entry.id);
          return false;
        });
        published.push(...(await this.publishDue(mine, held)));
      }
      await this.record(published);
    } finally {
      await held.release();
    }
  }

  /**
   * The stored entries for `ids` now (null when gone): one due() query, which holds them
   * all unless they moved on, then get() for any it did not return.
   */
  private async reread(
    ids: string[],
    horizon = this.clock.now(),
  ): Promise<(ScheduleEntry | null)[]> {
    const due = await this.store.due(horizon, ids.length + REREAD_SLACK);
    const byId = new Map<string, ScheduleEntry | null>(due.map((e) => [e.id, e]));
    const missing = ids.filter((id) => !byId.has(id));
    const fetched = await Promise.all(missing.map((id) => this.store.get(id)));
    missing.forEach((id, i) => byId.set(id, fetched[i]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Re-reads locked entries and decides what each dispatches (entries due by `horizon`). */
  private async plan(locked: ScheduleEntry[], horizon: number): Promise<Dispatch[]> {
    const fresh = await this.reread(
      locked.map((e) => e.id),
      horizon,
    );
    const dispatches: Dispatch[] = [];
    for (const [i, entry] of fresh.entries()) {
      if (!entry || !entry.enabled || entry.nextRunAt === undefined || entry.nextRunAt > horizon) {
        // Dispatched by another Beat meanwhile, or changed, disabled or removed.
        this.defer(locked[i].id);
        continue;
      }
      // The time it is dispatched at: now, or its due time when prepared ahead.
      const now = Math.max(this.clock.now(), entry.nextRunAt);
      if (entry.expireAt !== undefined && now > entry.expireAt) {
        await this.expire(entry);
        continue;
      }
      const decision = decideMissedRuns(entry, entry.nextRunAt, now, this.graceMs);
      const jitterMax = entry.jitter === undefined ? 0 : parseDuration(entry.jitter, "jitter");
      const jitterMs = jitterMax > 0 ? Math.floor(this.random() * (jitterMax + 1)) : 0;
      dispatches.push({
        entry,
        ...decision,
        jitterMs,
        taskId: scheduledTaskId(entry.id, decision.scheduledFor),
        next: nextRunAt(
          { ...entry, lastRunAt: decision.scheduledFor },
          decision.scheduledFor,
          this.nextRunOptions(entry.id),
        ),
        already: false,
      });
    }
    return dispatches;
  }

  /** Disables an entry past its expiry without running it. */
  private async expire(entry: ScheduleEntry): Promise<void> {
    try {
      const { nextRunAt: _dropped, ...rest } = entry;
      await this.store.upsert({ ...rest, enabled: false });
      this.stats.expired++;
      logger.info(
        `schedule "${entry.id}" expired at ${new Date(entry.expireAt as number).toISOString()}; disabled`,
      );
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      this.defer(entry.id);
    }
  }

  /**
   * Publishes a due time's dispatches (those not published before) and returns those to
   * record. A publish that fails in a way that may pass (a broker failover at the due
   * time) is tried again, backing off from retryDelay, until it works or the missed-run
   * grace after its due time runs out; only then is it recorded as failed. Publishing
   * again is safe: the task id is fixed, its `queued` status is kept, and the broker
   * refuses an id it holds (a publish whose reply was lost). A dispatch whose lock is lost
   * while it waits is left to the Beat that holds it now (not recorded here).
   */
  private async publishDue(dispatches: Dispatch[], held: HeldLocks): Promise<Dispatch[]> {
    await publishDispatches(
      this.stem,
      this.clock,
      dispatches.filter((d) => !d.already),
    );
    let pause = this.retryMs;
    const lost = new Set<Dispatch>();
    for (;;) {
      const retry = dispatches.filter(
        (d) =>
          d.error !== undefined &&
          d.retryable &&
          !lost.has(d) &&
          this.clock.now() + pause <= d.scheduledFor + this.graceMs,
      );
      if (retry.length === 0 || this.stopping) break;
      await this.clock.sleep(pause, this.stopController.signal);
      if (this.stopping) break;
      pause *= 2;
      await held.confirm();
      for (const d of retry) {
        if (held.owns(d.entry.id)) continue;
        lost.add(d);
        this.defer(d.entry.id);
      }
      const again = retry.filter((d) => !lost.has(d));
      logger.warn(
        `beat ${this.id}: publishing ${again.length} due task(s) again after: ${again[0]?.error}`,
      );
      for (const d of again) {
        d.error = undefined;
        d.retryable = undefined;
      }
      await publishDispatches(this.stem, this.clock, again);
    }
    return dispatches.filter((d) => !lost.has(d));
  }

  /** Records each run, unless another Beat already did (the entry's version moved). */
  private async record(dispatches: Dispatch[]): Promise<void> {
    if (dispatches.length === 0) return;
    const current = await this.reread(dispatches.map((d) => d.entry.id));
    await Promise.all(
      dispatches.map(async (d, i) => {
        const e = d.entry;
        if (current[i]?.version !== e.version) {
          // Recorded by another Beat (or changed meanwhile): not ours to count.
          this.stats.alreadyDispatched++;
          this.defer(e.id);
          return;
        }
        const executedAt = d.executedAt ?? this.clock.now();
        const driftMs = Math.max(0, executedAt - d.scheduledFor);
        const recorded = await this.store
          .markExecuted(e.id, {
            scheduledFor: d.scheduledFor,
            executedAt,
            success: d.error === undefined,
            jitterMs: d.jitterMs,
            driftMs,
            error: d.error,
            nextRunAt: d.next ?? undefined,
            disable: d.next === null ? true : undefined,
            expectedVersion: e.version,
          })
          .catch((error) => {
            if (error instanceof VersionConflictError) return "taken" as const;
            this.reportError(`could not record the run of "${e.id}"`, error);
            return undefined;
          });
        if (recorded === "taken") {
          // Another Beat recorded this run between our re-read and our write.
          this.stats.alreadyDispatched++;
          this.defer(e.id);
          return;
        }
        if (recorded === undefined) {
          // Not recorded: retried shortly, and found dispatched by its task id then.
          this.defer(e.id);
          return;
        }
        if (recorded === null)
          logger.warn(`schedule "${e.id}" was removed while it was being dispatched`);
        reportDispatch(d, driftMs, this.stats, this.onSkip);
      }),
    );
  }
}
