import type { Broker, Delivery, ResultBackend } from "../adapters/contracts.ts";
import type { TaskStatus } from "../core/states.ts";
import { checkStatusStorable, markMergedStorable } from "../core/storable.ts";
import { latestWithTimelines } from "../core/timeline.ts";
import type { TaskEventPublisher } from "../events/publisher.ts";
import type { TaskCounts } from "./task-counts.ts";

function combinedWriter(broker: Broker, backend: ResultBackend) {
  return broker.ackWithStatuses?.(backend) ?? null;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Batches the worker's writes: statuses go to the result backend in one call, then the
 * finished deliveries are acked in one call. A task is acked only after its final status
 * is stored; when the write fails the task is not acked and its lease brings it back.
 * A broker that can store and ack in one step for this backend (`ackWithStatuses`) does both.
 * Stored statuses are also counted into the per-minute task counters (`counts`).
 * With `events`, each status is announced as task events once its batch is stored (every
 * status given, even those a later one in the same batch replaces).
 */
export class Completions {
  private statuses = new Map<string, TaskStatus>();
  private acks: Delivery[] = [];
  private waiters: Waiter[] = [];
  /** Statuses to announce once their batch is written, in the order given. */
  private told: TaskStatus[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private readonly combined: ((statuses: TaskStatus[], acks: Delivery[]) => Promise<void>) | null;

  constructor(
    private readonly broker: Broker,
    private readonly backend: ResultBackend,
    private readonly onError: (error: unknown) => void,
    private readonly counts?: TaskCounts,
    private readonly events?: TaskEventPublisher,
  ) {
    this.combined = combinedWriter(broker, backend);
  }

  /** Records a status soon (running, progress); the caller does not wait. */
  note(status: TaskStatus): void {
    const unstorable = this.refuse(status);
    if (unstorable) return this.onError(unstorable);
    this.keep(status);
    this.schedule();
  }

  /** Stores the status, waiting until it is written. */
  write(status: TaskStatus): Promise<void> {
    const unstorable = this.refuse(status);
    if (unstorable) return Promise.reject(unstorable);
    this.keep(status);
    return this.wait();
  }

  /** Announces a status as task events with the next batch, without storing it (`ignoreResult`). */
  announce(status: TaskStatus): void {
    if (!this.events) return;
    this.told.push(status);
    this.schedule();
  }

  /** Stores the final status, then acks the delivery; resolves when both are done. */
  finish(status: TaskStatus, delivery: Delivery): Promise<void> {
    const unstorable = this.refuse(status);
    if (unstorable) return Promise.reject(unstorable);
    this.keep(status);
    this.acks.push(delivery);
    return this.wait();
  }

  /**
   * Queues a status for the next batch (and, with events, for announcing). A later status
   * of the same task replaces an earlier one not yet written, but keeps its timeline entries.
   */
  private keep(status: TaskStatus): void {
    const earlier = this.statuses.get(status.id);
    if (!earlier) this.statuses.set(status.id, status);
    else {
      const merged = latestWithTimelines([earlier, status])[0]!;
      markMergedStorable(merged, [earlier, status]);
      this.statuses.set(status.id, merged);
    }
    if (this.events) this.told.push(status);
  }

  /** Acks the delivery with no status (a task that keeps none); resolves when acked. */
  ack(delivery: Delivery): Promise<void> {
    this.acks.push(delivery);
    return this.wait();
  }

  /** Counts a final status that is not stored (a task that keeps none) in the task counters. */
  count(status: TaskStatus): void {
    this.counts?.count([status]);
  }

  /**
   * Checks one status on its own before it joins a batch, so a status no backend can
   * store fails its own write, not every task of the batch. Returns the error, if any.
   */
  private refuse(status: TaskStatus): Error | null {
    try {
      checkStatusStorable(status);
      return null;
    } catch (error) {
      return new Error(`task ${status.id}: ${(error as Error).message}`, { cause: error });
    }
  }

  private wait(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let every task that settles in this turn join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Writes everything queued so far; resolves when it is written. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.statuses.size === 0 && this.acks.length === 0 && this.told.length === 0) return;
    const statuses = [...this.statuses.values()];
    const acks = this.acks;
    const waiters = this.waiters;
    const told = this.told;
    this.statuses = new Map();
    this.acks = [];
    this.waiters = [];
    this.told = [];
    if (statuses.length === 0 && acks.length === 0) {
      // Only events to announce (tasks that keep no result): nothing to write. (Not in the
      // block below, which would then run to its end before `flushing` is even set.)
      this.events?.statuses(told);
      for (const w of waiters) w.resolve();
      return;
    }
    this.flushing = (async () => {
      try {
        if (this.combined) {
          await this.combined(statuses, acks);
        } else {
          if (statuses.length > 0) await this.backend.set(statuses);
          if (acks.length > 0) await this.broker.ack(acks);
        }
        this.counts?.count(statuses);
        this.events?.statuses(told);
        for (const w of waiters) w.resolve();
      } catch (error) {
        this.onError(error);
        for (const w of waiters) w.reject(error);
      } finally {
        this.flushing = null;
      }
    })();
    await this.flushing;
  }
}
