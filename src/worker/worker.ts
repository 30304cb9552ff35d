import { hostname as osHostname } from "node:os";
import { logger } from "../core/logger.ts";
import type {
  Broker,
  ControlBus,
  Delivery,
  LockStore,
  RateLimiter,
  ResultBackend,
  RevokeEntry,
  RevokeStore,
  WorkerHeartbeat,
} from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { TaskAbort } from "../core/context.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError } from "../core/errors.ts";
import { TaskRegistry } from "../core/registry.ts";
import { ExponentialJitterRetryStrategy, type RetryStrategy } from "../core/retry.ts";
import { signals } from "../core/signals.ts";
import { Stem } from "../core/stem.ts";
import type { AnyTaskHandler } from "../core/task.ts";
import { Autoscaler, type AutoscaleOptions } from "./autoscale.ts";
import { Completions } from "./completions.ts";
import { type ControlHandle, attachControl } from "./control.ts";
import { type Executor, InlineExecutor } from "./executor.ts";
import { Revocations, loadPausedQueues } from "./revocations.ts";
import {
  type EnvelopeVerifier,
  type HeldTask,
  type SettledHook,
  TaskRunner,
} from "./task-runner.ts";
import { ThreadExecutor } from "./thread-executor.ts";
import { registerWorker, unregisterWorker } from "../observability/instrumentation.ts";

export type ShutdownMode = "warm" | "hard";

export interface WorkerOptions {
  broker: Broker;
  backend: ResultBackend;
  tasks: AnyTaskHandler[] | TaskRegistry;
  /** Queues to consume, in order of preference. Default: the default queue. */
  queues?: string[];
  /** Tasks run at once. Default 10. */
  concurrency?: number;
  /** Deliveries held at once (running plus waiting for a slot). Default: concurrency. */
  prefetch?: number;
  /** Grow and shrink concurrency with the backlog. */
  autoscale?: AutoscaleOptions;
  /** `inline` (default) runs handlers on this event loop; `thread` in Bun Worker threads. */
  isolation?: "inline" | "thread";
  /** Module the handler threads import (required for thread isolation). */
  tasksModule?: string;
  /** Replace a handler thread after this many tasks. */
  maxTasksPerThread?: number;
  /** Retry delays for tasks without their own backoff. Default exponential with jitter. */
  retryStrategy?: RetryStrategy;
  /** Lease for tasks without their own visibility timeout. Default 30 s. */
  visibilityTimeout?: DurationInput;
  rateLimiter?: RateLimiter;
  revokeStore?: RevokeStore;
  lockStore?: LockStore;
  controlBus?: ControlBus;
  /** Producer for tasks enqueued from handlers (ctx.enqueue). Default: one on the same stores. */
  stem?: Stem;
  hostname?: string;
  workerId?: string;
  /** Default 10 s. */
  heartbeatInterval?: DurationInput;
  /** How long a warm shutdown waits for running tasks before going hard. Default 30 s. */
  shutdownTimeout?: DurationInput;
  /** Handle SIGINT/SIGTERM: first is a warm shutdown, second forces it. Default false. */
  installSignalHandlers?: boolean;
  verify?: EnvelopeVerifier;
  /** Hooks run when a task settles, before its ack (canvas). */
  onSettled?: SettledHook[];
  clock?: Clock;
}

/** Counters a worker reports in heartbeats and `stem worker stats`. */
export interface WorkerStats {
  workerId: string;
  host: string;
  pid: number;
  queues: string[];
  pausedQueues: string[];
  concurrency: number;
  prefetch: number;
  inflight: number;
  processed: number;
  failed: number;
  startedAt: number;
  active: {
    id: string;
    name: string;
    queue: string;
    attempt: number;
    startedAt: number;
    runtimeMs: number;
  }[];
}

let workersInProcess = 0;
/** The smallest fetch batch (capped by the prefetch); see the loop. */
const MIN_FETCH_BATCH = 32;

/**
 * Consumes queues and runs tasks: leases deliveries, extends leases while tasks run,
 * retries with backoff, dead-letters exhausted tasks, reports heartbeats and answers
 * control commands. `start()` resolves once the worker is consuming.
 */
export class Worker {
  readonly id: string;
  readonly host: string;
  readonly queues: string[];
  readonly registry: TaskRegistry;
  private readonly options: WorkerOptions;
  private readonly clock: Clock;
  private readonly broker: Broker;
  private readonly backend: ResultBackend;
  private readonly leaseMs: number;
  private readonly executor: Executor;
  private readonly completions: Completions;
  private readonly revocations: Revocations;
  private readonly runner: TaskRunner;
  private readonly autoscaler?: Autoscaler;
  private readonly held = new Map<string, HeldTask>();
  private readonly waiting: HeldTask[] = [];
  private readonly running = new Set<HeldTask>();
  /** Tasks whose handler has settled, while their outcome is stored and acked. */
  private readonly finishing = new Set<HeldTask>();
  private readonly paused = new Set<string>();
  /** The signal that forced a shutdown (a second SIGINT/SIGTERM), if one did. */
  private forced: string | undefined;
  /** Extra heartbeat fields others set (e.g. the workflows this worker serves). */
  private readonly advertised: Record<string, unknown> = {};
  private readonly stopFetching = new AbortController();
  private wakeLoop: (() => void) | null = null;
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private concurrencyNow: number;
  private prefetchLimit: number;
  private processed = 0;
  private failed = 0;
  private startedAt = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private timers: ReturnType<typeof setInterval>[] = [];
  private leaseTimer?: ReturnType<typeof setTimeout>;
  private leaseCheckMs = 1000;
  private fetchAbort?: AbortController;
  private control?: ControlHandle;
  private stopped?: Promise<void>;
  private removeSignalHandlers?: () => void;
  private lastFetchError = 0;

  constructor(options: WorkerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.broker = options.broker;
    this.backend = options.backend;
    this.registry =
      options.tasks instanceof TaskRegistry ? options.tasks : new TaskRegistry(options.tasks);
    this.queues = options.queues?.length
      ? [...new Set(options.queues)]
      : [process.env.STEM_DEFAULT_QUEUE || "default"];
    this.host = options.hostname ?? osHostname();
    this.id =
      options.workerId ??
      `${this.host}.${process.pid}${++workersInProcess > 1 ? `.${workersInProcess}` : ""}`;
    const concurrency = options.autoscale?.min ?? options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new StemError(
        "invalid_argument",
        `concurrency must be a positive integer, got ${concurrency}`,
      );
    }
    this.concurrencyNow = concurrency;
    this.prefetchLimit = Math.max(options.prefetch ?? concurrency, concurrency);
    this.leaseMs = parseDuration(options.visibilityTimeout ?? "30s", "visibilityTimeout");
    this.executor =
      options.isolation === "thread"
        ? new ThreadExecutor({
            tasksModule: options.tasksModule ?? "",
            maxTasksPerThread: options.maxTasksPerThread,
          })
        : new InlineExecutor();
    this.completions = new Completions(this.broker, this.backend, (error) =>
      logger.error(`worker ${this.id}: storing results failed: ${(error as Error).message}`),
    );
    this.revocations = new Revocations(options.revokeStore, this.clock);
    const stem =
      options.stem ??
      new Stem({
        broker: this.broker,
        backend: this.backend,
        lockStore: options.lockStore,
        clock: this.clock,
      });
    this.runner = new TaskRunner({
      workerId: this.id,
      broker: this.broker,
      registry: this.registry,
      completions: this.completions,
      executor: this.executor,
      stem,
      clock: this.clock,
      retryStrategy: options.retryStrategy ?? new ExponentialJitterRetryStrategy(),
      revocations: this.revocations,
      rateLimiter: options.rateLimiter,
      lockStore: options.lockStore,
      leaseMs: this.leaseMs,
      verify: options.verify,
      onSettled: options.onSettled ?? [],
    });
    if (options.autoscale) {
      this.autoscaler = new Autoscaler(options.autoscale, {
        depth: async () =>
          (await this.broker.stats(this.queues)).reduce((n, s) => n + s.pending, 0),
        busy: () => this.running.size + this.waiting.length,
        concurrency: () => this.concurrencyNow,
        resize: (n) => this.resize(n),
      });
    }
  }

  /** Tasks that may run at once right now (changes with autoscaling). */
  get concurrency(): number {
    return this.concurrencyNow;
  }

  /** Starts consuming. Resolves once the worker is ready. */
  async start(): Promise<void> {
    if (this.state !== "new")
      throw new StemError("invalid_argument", "a worker can be started once");
    this.state = "running";
    this.startedAt = this.clock.now();
    const base = { workerId: this.id, queues: this.queues };
    signals.workerStarting.emit(base);
    await this.revocations.refresh();
    for (const q of await loadPausedQueues(this.options.revokeStore, this.clock.now()))
      this.paused.add(q);
    const pausedHere = this.queues.filter((q) => this.paused.has(q));
    if (pausedHere.length > 0)
      logger.warn(
        `worker ${this.id}: queue ${pausedHere.join(", ")} is paused; nothing is fetched from it until \`stem worker resume --queue ${pausedHere.join(",")}\``,
      );
    if (this.options.controlBus) this.control = await attachControl(this, this.options.controlBus);
    await this.beat();
    const heartbeatMs = parseDuration(this.options.heartbeatInterval ?? "10s", "heartbeatInterval");
    this.timers.push(setInterval(() => void this.beat(), heartbeatMs));
    this.scheduleLeaseKeeper();
    if (this.options.revokeStore) {
      this.timers.push(setInterval(() => void this.revocations.refresh().catch(() => {}), 5000));
    }
    this.autoscaler?.start();
    if (this.options.installSignalHandlers) this.installSignalHandlers();
    this.loopDone = this.loop();
    registerWorker({
      id: this.id,
      queues: this.queues,
      inflight: () => this.running.size,
      queueStats: () => this.broker.stats(this.queues),
    });
    signals.workerReady.emit(base);
    logger.info(
      `worker ${this.id} ready: queues ${this.queues.join(", ")}, concurrency ${this.concurrencyNow}`,
    );
  }

  private markDone: () => void = () => {};
  /** Resolves when the worker has fully stopped, however it was stopped. */
  readonly done: Promise<void> = new Promise((resolve) => {
    this.markDone = resolve;
  });

  private async loop(): Promise<void> {
    while (this.state === "running") {
      const room = this.prefetchLimit - this.held.size;
      const queues = this.queues.filter((q) => !this.paused.has(q));
      // Fetch in batches of up to a quarter of the prefetch, so that batches overlap: one is
      // fetched while others run or store their results. While tasks still wait for a slot,
      // wait until there is room for a whole batch. Small prefetches fetch up to 32 at once:
      // a round trip per 2 or 3 tasks costs more than the overlap gains (Postgres, c10).
      const batch = Math.max(
        Math.ceil(this.prefetchLimit / 4),
        Math.min(this.prefetchLimit, MIN_FETCH_BATCH),
      );
      const minRoom = this.waiting.length > 0 ? batch : 1;
      if (room < minRoom || queues.length === 0) {
        await this.idle(queues.length === 0 ? 250 : undefined);
        continue;
      }
      let deliveries: Delivery[];
      // Aborted by shutdown, or by a pause so the paused queue stops being read at once.
      this.fetchAbort = new AbortController();
      try {
        deliveries = await this.broker.fetch(queues, {
          max: Math.min(room, batch),
          leaseMs: this.leaseMs,
          consumer: this.id,
          waitMs: 1000,
          signal: AbortSignal.any([this.stopFetching.signal, this.fetchAbort.signal]),
        });
      } catch (error) {
        this.reportFetchError(error);
        await this.clock.sleep(500, this.stopFetching.signal);
        continue;
      }
      this.lastFetchError = 0;
      for (const delivery of deliveries) {
        if (this.state !== "running" || this.paused.has(delivery.queue)) {
          await this.broker.nack(delivery, { countAttempt: false });
          continue;
        }
        const held: HeldTask = { delivery };
        this.held.set(delivery.receipt, held);
        // A shorter lease than any held so far needs checking sooner.
        if (this.leaseOf(held) / 4 < this.leaseCheckMs) this.scheduleLeaseKeeper();
        void this.admit(held);
      }
    }
  }

  /** Waits until a slot frees, a command changes something, or `ms` passes. */
  private idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      const onStop = () => done();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeLoop = () => {
        this.wakeLoop = null;
        this.stopFetching.signal.removeEventListener("abort", onStop);
        done();
      };
      this.stopFetching.signal.addEventListener("abort", onStop, { once: true });
    });
  }

  private reportFetchError(error: unknown): void {
    // Once per outage, not once per loop.
    if (this.lastFetchError === 0) {
      logger.warn(
        `worker ${this.id}: fetching from the broker failed, retrying: ${(error as Error).message}`,
      );
    }
    this.lastFetchError = this.clock.now();
  }

  private async admit(held: HeldTask): Promise<void> {
    try {
      if (await this.runner.admit(held, this.stopFetching.signal)) {
        this.waiting.push(held);
        this.pump();
        return;
      }
    } catch (error) {
      logger.error(
        `worker ${this.id}: task ${held.delivery.envelope.id} could not be admitted: ${(error as Error).message}`,
      );
    }
    this.release(held);
  }

  /** Starts waiting tasks while slots are free. */
  private pump(): void {
    while (
      this.state !== "stopped" &&
      this.running.size < this.concurrencyNow &&
      this.waiting.length > 0
    ) {
      if (this.state === "stopping") return;
      const held = this.waiting.shift()!;
      this.running.add(held);
      void this.execute(held);
    }
  }

  private async execute(held: HeldTask): Promise<void> {
    const envelope = held.delivery.envelope;
    logger.info(`task ${envelope.name} ${envelope.id} started (attempt ${envelope.attempt})`);
    const started = this.clock.now();
    held.handlerSettled = () => {
      // The slot goes to the next task while this one's outcome is stored and acked.
      if (!this.running.delete(held)) return;
      this.finishing.add(held);
      this.pump();
      this.wakeLoop?.();
    };
    try {
      const state = await this.runner.run(held);
      // Interrupted by a hard shutdown: hand the task back for another worker.
      if (state === "shutdown") await this.broker.nack(held.delivery, { countAttempt: false });
      else if (state !== "lost") this.processed++;
      if (state === "failed") this.failed++;
      logger.info(
        `task ${envelope.name} ${envelope.id} ${state} in ${this.clock.now() - started} ms`,
      );
    } catch (error) {
      // Storing the outcome failed: the task stays leased and comes back after its lease.
      this.failed++;
      logger.error(
        `task ${envelope.name} ${envelope.id}: could not record its outcome: ${(error as Error).message}`,
      );
    } finally {
      this.running.delete(held);
      this.finishing.delete(held);
      this.release(held);
      this.pump();
    }
  }

  private release(held: HeldTask): void {
    this.held.delete(held.delivery.receipt);
    this.wakeLoop?.();
  }

  private leaseOf(held: HeldTask): number {
    return (
      held.delivery.envelope.visibilityTimeoutMs ??
      held.task?.options.visibilityTimeoutMs ??
      this.leaseMs
    );
  }

  /** Checks leases at a quarter of the shortest lease held (between 20 ms and 1 s). */
  private scheduleLeaseKeeper(): void {
    if (this.state === "stopped") return;
    let shortest = this.leaseMs;
    for (const held of this.held.values()) shortest = Math.min(shortest, this.leaseOf(held));
    clearTimeout(this.leaseTimer);
    this.leaseCheckMs = Math.max(20, Math.min(1000, shortest / 4));
    this.leaseTimer = setTimeout(async () => {
      await this.keepLeases();
      this.scheduleLeaseKeeper();
    }, this.leaseCheckMs);
  }

  /** Extends the lease of every held delivery that has used half of it. */
  private async keepLeases(): Promise<void> {
    const now = this.clock.now();
    await Promise.all(
      [...this.held.values()].map(async (held) => {
        const d = held.delivery;
        const lease = this.leaseOf(held);
        if (held.lost || d.leaseExpiresAt - now > lease / 2) return;
        try {
          if (await this.broker.extendLease(d, lease)) {
            d.leaseExpiresAt = this.clock.now() + lease;
          } else {
            held.lost = true;
            held.interrupt?.(new TaskAbort("lease-lost", "the worker lost the task's lease"));
          }
        } catch (error) {
          logger.warn(`worker ${this.id}: extending a lease failed: ${(error as Error).message}`);
        }
      }),
    );
  }

  private heartbeat(): WorkerHeartbeat {
    return {
      workerId: this.id,
      host: this.host,
      pid: process.pid,
      queues: this.queues,
      concurrency: this.concurrencyNow,
      inflight: this.running.size,
      processed: this.processed,
      failed: this.failed,
      startedAt: this.startedAt,
      timestamp: this.clock.now(),
      extras: { ...this.advertised, prefetch: this.prefetchLimit, paused: [...this.paused] },
    };
  }

  private async beat(): Promise<void> {
    const hb = this.heartbeat();
    const ttl = 3 * parseDuration(this.options.heartbeatInterval ?? "10s");
    try {
      await this.backend.setHeartbeat(hb, ttl);
      signals.workerHeartbeat.emit({
        workerId: this.id,
        queues: this.queues,
        inflight: hb.inflight,
        processed: hb.processed,
      });
    } catch (error) {
      logger.warn(`worker ${this.id}: heartbeat failed: ${(error as Error).message}`);
    }
  }

  /** A snapshot for stats and inspect commands. */
  /** The signal that forced this worker's shutdown (a second one), or undefined. */
  get forcedBy(): string | undefined {
    return this.forced;
  }

  /** Adds a field to this worker's heartbeat `extras`, for operator tools to read. */
  advertise(key: string, value: unknown): void {
    this.advertised[key] = value;
  }

  stats(): WorkerStats {
    const now = this.clock.now();
    return {
      workerId: this.id,
      host: this.host,
      pid: process.pid,
      queues: this.queues,
      pausedQueues: [...this.paused],
      concurrency: this.concurrencyNow,
      prefetch: this.prefetchLimit,
      inflight: this.running.size,
      processed: this.processed,
      failed: this.failed,
      startedAt: this.startedAt,
      active: [...this.running].map((h) => ({
        id: h.delivery.envelope.id,
        name: h.delivery.envelope.name,
        queue: h.delivery.queue,
        attempt: h.delivery.envelope.attempt,
        startedAt: h.startedAt ?? now,
        runtimeMs: now - (h.startedAt ?? now),
      })),
    };
  }

  /** Stops fetching from these queues until resumed. */
  pause(queues: string[]): void {
    for (const q of queues) this.paused.add(q);
    this.fetchAbort?.abort();
  }

  resume(queues: string[]): void {
    for (const q of queues) this.paused.delete(q);
    this.wakeLoop?.();
  }

  /** Applies revocations: future deliveries are skipped; `terminate` ones stop if running. */
  revoke(entries: RevokeEntry[]): string[] {
    this.revocations.add(entries);
    const terminated: string[] = [];
    for (const entry of entries) {
      if (!entry.terminate) continue;
      for (const held of this.running) {
        if (held.delivery.envelope.id === entry.taskId && held.interrupt) {
          held.interrupt(new TaskAbort("revoked", entry.reason ?? "revoked"));
          terminated.push(entry.taskId);
        }
      }
    }
    return terminated;
  }

  private resize(concurrency: number): void {
    this.concurrencyNow = concurrency;
    this.prefetchLimit = Math.max(this.options.prefetch ?? concurrency, concurrency);
    this.pump();
    this.wakeLoop?.();
  }

  /**
   * Stops the worker. `warm` (default): stop fetching, return tasks not yet started, let
   * running ones finish within the shutdown timeout, then go hard. `hard`: stop running
   * tasks now and return them to the broker for another worker.
   */
  shutdown(mode: ShutdownMode = "warm"): Promise<void> {
    if (mode === "hard" && this.state === "stopping") this.interruptAll();
    if (this.stopped) return this.stopped;
    if (this.state === "new") {
      this.state = "stopped";
      this.markDone();
      return (this.stopped = Promise.resolve());
    }
    this.stopped = this.stop(mode);
    return this.stopped;
  }

  private interruptAll(): void {
    for (const held of this.running)
      held.interrupt?.(new TaskAbort("shutdown", "worker shutting down"));
  }

  private async stop(mode: ShutdownMode): Promise<void> {
    const base = { workerId: this.id, queues: this.queues };
    this.state = "stopping";
    signals.workerStopping.emit({ ...base, mode });
    logger.info(`worker ${this.id} stopping (${mode})`);
    this.stopFetching.abort();
    this.autoscaler?.stop();
    await this.loopDone;
    // Tasks that never started go back at once, without counting an attempt.
    for (const held of this.waiting.splice(0)) {
      await this.broker.nack(held.delivery, { countAttempt: false }).catch(() => {});
      this.held.delete(held.delivery.receipt);
    }
    if (mode === "hard") this.interruptAll();
    const timeoutMs = parseDuration(this.options.shutdownTimeout ?? "30s", "shutdownTimeout");
    const deadline = Date.now() + timeoutMs;
    while ((this.running.size > 0 || this.finishing.size > 0) && Date.now() < deadline) {
      await Bun.sleep(20);
    }
    if (this.running.size > 0) {
      logger.warn(
        `worker ${this.id}: ${this.running.size} task(s) still running after ${timeoutMs} ms; returning them`,
      );
      this.interruptAll();
    }
    // Whatever is still held (interrupted or admitted late) goes back to the broker.
    // (Not tasks still storing their outcome: their ack is on its way, or their lease runs out.)
    for (const held of this.held.values()) {
      if (this.finishing.has(held)) continue;
      await this.broker.nack(held.delivery, { countAttempt: false }).catch(() => {});
    }
    this.held.clear();
    await this.completions.flush().catch(() => {});
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.leaseTimer);
    await this.control?.close();
    await this.executor.close();
    this.removeSignalHandlers?.();
    this.state = "stopped";
    unregisterWorker(this.id);
    signals.workerShutdown.emit(base);
    logger.info(`worker ${this.id} stopped`);
    this.markDone();
  }

  private installSignalHandlers(): void {
    const onSignal = (name: string) => {
      if (this.state === "stopping") {
        logger.warn(`${name} again: forcing shutdown`);
        this.forced = name;
        void this.shutdown("hard");
      } else {
        logger.info(`${name} received: finishing running tasks (send again to force)`);
        void this.shutdown("warm");
      }
    };
    const onInt = () => onSignal("SIGINT");
    const onTerm = () => onSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    this.removeSignalHandlers = () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    };
  }
}
