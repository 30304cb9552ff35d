import { hostname as osHostname } from "node:os";
import type { Broker, Delivery, ResultBackend, RevokeEntry } from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { TaskAbort } from "../core/context.ts";
import { parseDuration } from "../core/duration.ts";
import { attemptNumber } from "../core/envelope.ts";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import { checkMiddleware, type Middleware } from "../core/middleware.ts";
import { TaskRegistry } from "../core/registry.ts";
import { signals } from "../core/signals.ts";
import { taskLimits } from "../core/task-limits.ts";
import { registerWorker, unregisterWorker } from "../observability/instrumentation.ts";
import { declareLimits } from "./concurrency-gate.ts";
import { attachControl, type ControlHandle } from "./control.ts";
import { type HeartbeatSnapshot, Heartbeats } from "./heartbeats.ts";
import type { Housekeeping } from "./housekeeping.ts";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "./liveness.ts";
import { loadPausedQueues } from "./revocations.ts";
import { installShutdownSignals } from "./shutdown-signals.ts";
import type { HeldTask } from "./task-runner.ts";
import type { ShutdownMode, WorkerOptions, WorkerStats } from "./worker-options.ts";
import { buildWorkerParts, checkWorkerOptions, type WorkerParts } from "./worker-parts.ts";

export type { ShutdownMode, WorkerOptions, WorkerStats } from "./worker-options.ts";

let workersInProcess = 0;
/** The smallest fetch batch (capped by the prefetch); see the loop. */
const MIN_FETCH_BATCH = 32;
/**
 * A task whose admission or outcome write failed goes back to the broker after this
 * long: soon, rather than after its whole lease, but not in a hot loop during an outage.
 */
const ERROR_RELEASE_DELAY_MS = 1000;

/**
 * How long one fetch may wait for work. Brokers wake a waiting fetch when work arrives or
 * comes due; this only bounds how often an idle worker asks again.
 */
const FETCH_WAIT_MS = 5000;

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
  private readonly held = new Map<string, HeldTask>();
  /** Middleware whose `execute` wraps every handler (shared with the producer's when given). */
  private readonly middleware: Middleware[];
  private readonly waiting: HeldTask[] = [];
  private readonly running = new Set<HeldTask>();
  /** Tasks whose handler has settled, while their outcome is stored and acked. */
  private readonly finishing = new Set<HeldTask>();
  private readonly paused = new Set<string>();
  /** The signal that forced a shutdown (a second SIGINT/SIGTERM), if one did. */
  private forced: string | undefined;
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
  private fetchAbort?: AbortController;
  private control?: ControlHandle;
  private stopped?: Promise<void>;
  private removeSignalHandlers?: () => void;
  private lastFetchError = 0;
  private readonly heartbeats: Heartbeats;
  /** Executor, batched writers, revocations, leases, concurrency gate, runner, autoscaler. */
  private readonly parts: WorkerParts;

  constructor(options: WorkerOptions) {
    this.options = options;
    this.middleware = options.middleware ?? options.stem?.middleware ?? [];
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
    const concurrency = checkWorkerOptions(options);
    this.concurrencyNow = concurrency;
    this.prefetchLimit = Math.max(options.prefetch ?? concurrency, concurrency);
    this.leaseMs = parseDuration(options.visibilityTimeout ?? "30s", "visibilityTimeout");
    this.heartbeats = new Heartbeats(
      this.backend,
      this.id,
      parseDuration(
        options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
        "heartbeatInterval",
      ),
      () => this.heartbeat(),
    );
    this.parts = buildWorkerParts(options, {
      id: this.id,
      queues: this.queues,
      clock: this.clock,
      backend: this.backend,
      registry: this.registry,
      leaseMs: this.leaseMs,
      middleware: this.middleware,
      held: () => this.held.values(),
      busy: () => this.running.size + this.waiting.length,
      concurrency: () => this.concurrencyNow,
      resize: (n) => this.resize(n),
    });
  }

  /**
   * Adds middleware whose `execute` runs around every handler, after those added before
   * (shared with the worker's producer: its `enqueue` applies to tasks enqueued from
   * handlers). Returns this worker.
   */
  use(middleware: Middleware): this {
    this.middleware.push(checkMiddleware(middleware));
    return this;
  }

  /** The retention sweeps this worker runs (absent with `housekeeping: false`). */
  get housekeeping(): Housekeeping | undefined {
    return this.parts.housekeeping;
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
    await this.parts.revocations.refresh();
    for (const q of await loadPausedQueues(this.options.revokeStore, this.clock.now()))
      this.paused.add(q);
    const pausedHere = this.queues.filter((q) => this.paused.has(q));
    if (pausedHere.length > 0)
      logger.warn(
        `worker ${this.id}: queue ${pausedHere.join(", ")} is paused; nothing is fetched from it until \`stem worker resume --queue ${pausedHere.join(",")}\``,
      );
    if (this.options.controlBus) this.control = await attachControl(this, this.options.controlBus);
    // Operator tools (the dashboard's queues page) read the task limits from the heartbeat.
    this.advertise("limits", taskLimits(this.registry));
    await declareLimits(this.id, this.registry, this.parts.gate);
    await this.heartbeats.start();
    this.parts.leases.schedule();
    if (this.options.revokeStore) {
      this.timers.push(
        setInterval(() => void this.parts.revocations.refresh().catch(() => {}), 5000),
      );
    }
    this.parts.autoscaler?.start();
    this.parts.housekeeping?.start();
    if (this.options.installSignalHandlers) {
      this.removeSignalHandlers = installShutdownSignals({
        id: this.id,
        stopping: () => this.state === "stopping",
        forcedBy: (signal) => (this.forced = signal),
        shutdown: (mode) => this.shutdown(mode),
      });
    }
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
      // Tasks storing their outcome hold no slot, up to a prefetch's worth (at least
      // MIN_FETCH_BATCH, so a prefetch of 1 still writes its results in batches): claims go
      // on while results are written, yet a store that stops answering holds the worker back.
      const room =
        this.prefetchLimit -
        this.held.size +
        Math.min(this.finishing.size, Math.max(this.prefetchLimit, MIN_FETCH_BATCH));
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
      const asked = this.clock.now();
      try {
        deliveries = await this.broker.fetch(queues, {
          max: Math.min(room, batch),
          leaseMs: this.leaseMs,
          consumer: this.id,
          // Long: a pause or shutdown aborts the wait, and an idle worker costs less.
          waitMs: FETCH_WAIT_MS,
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
          // A failed return is logged, never thrown: the loop must not die of it.
          await this.broker.nack(delivery, { countAttempt: false }).catch((error) => {
            logger.warn(
              `worker ${this.id}: returning task ${delivery.envelope.id} failed (its lease will run out): ${(error as Error).message}`,
            );
          });
          continue;
        }
        // The broker granted the envelope's own lease, else the one asked for.
        const granted = delivery.envelope.visibilityTimeoutMs ?? this.leaseMs;
        const held: HeldTask = { delivery, leaseUntil: asked + granted };
        this.held.set(delivery.receipt, held);
        this.parts.leases.add(held);
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
      await this.parts.leases.applyTaskLease(held);
      // A lease already gone (another consumer has the task) is not run here.
      if (!held.lost && (await this.parts.runner.admit(held))) {
        this.waiting.push(held);
        this.pump();
        return;
      }
    } catch (error) {
      logger.error(
        `worker ${this.id}: task ${held.delivery.envelope.id} could not be admitted, returning it: ${(error as Error).message}`,
      );
      await this.returnSoon(held);
    }
    this.release(held);
  }

  /** Hands a task back after an error, without waiting for its lease to run out. */
  private async returnSoon(held: HeldTask): Promise<void> {
    try {
      await this.broker.nack(held.delivery, { delayMs: ERROR_RELEASE_DELAY_MS });
    } catch (error) {
      logger.warn(
        `worker ${this.id}: returning task ${held.delivery.envelope.id} failed (its lease will run out): ${(error as Error).message}`,
      );
    }
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
    if (this.parts.gate && !(await this.parts.gate.enterOrSendBack(held))) {
      this.running.delete(held);
      this.release(held);
      this.pump();
      return;
    }
    logger.info(
      `task ${envelope.name} ${envelope.id} started (attempt ${attemptNumber(envelope)})`,
    );
    this.heartbeats.soon();
    const started = this.clock.now();
    held.handlerSettled = () => {
      // The slot goes to the next task while this one's outcome is stored and acked.
      if (!this.running.delete(held)) return;
      void this.parts.gate?.leave(held);
      this.finishing.add(held);
      this.pump();
      this.wakeLoop?.();
    };
    try {
      const state = await this.parts.runner.run(held);
      // Interrupted by a hard shutdown: hand the task back for another worker.
      if (state === "shutdown") await this.parts.runner.giveBack(held);
      else if (state !== "lost") this.processed++;
      if (state === "failed") this.failed++;
      const ms = this.clock.now() - started;
      // A retry is logged by the runner, with the delay before the next attempt.
      if (state === "shutdown")
        logger.info(
          `task ${envelope.name} ${envelope.id} handed back to the queue after ${ms} ms (the worker is stopping; attempt not counted)`,
        );
      else if (state !== "retrying")
        logger.info(
          `task ${envelope.name} ${envelope.id} ${state} in ${ms} ms (attempt ${attemptNumber(envelope)})`,
        );
    } catch (error) {
      // Storing the outcome failed: the task goes back at once (its delivery counts
      // towards its limit, so an outcome that can never be stored ends in the dead letters).
      this.failed++;
      logger.error(
        `task ${envelope.name} ${envelope.id}: could not record its outcome, returning it: ${(error as Error).message}`,
      );
      await this.returnSoon(held);
    } finally {
      await this.parts.gate?.leave(held);
      this.running.delete(held);
      this.finishing.delete(held);
      this.release(held);
      this.pump();
      this.heartbeats.soon();
    }
  }

  private release(held: HeldTask): void {
    this.held.delete(held.delivery.receipt);
    this.wakeLoop?.();
  }

  /** What this worker's heartbeat says now (Heartbeats adds what others advertise). */
  private heartbeat(): HeartbeatSnapshot {
    const { workerId, host, pid, queues, concurrency, inflight, processed, failed, startedAt } =
      this.stats();
    return {
      workerId,
      host,
      pid,
      queues,
      concurrency,
      inflight,
      processed,
      failed,
      startedAt,
      timestamp: this.clock.now(),
      extras: { prefetch: this.prefetchLimit, paused: [...this.paused] },
    };
  }

  /** The signal that forced this worker's shutdown (a second one), or undefined. */
  get forcedBy(): string | undefined {
    return this.forced;
  }

  /** Adds a field to this worker's heartbeat `extras`, for operator tools to read. */
  advertise(key: string, value: unknown): void {
    this.heartbeats.advertise(key, value);
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
        attempt: attemptNumber(h.delivery.envelope),
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
    this.parts.revocations.add(entries);
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
    this.parts.autoscaler?.stop();
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
      await systemClock.sleep(20);
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
      await this.parts.runner.giveBack(held).catch(() => {});
    }
    this.held.clear();
    await this.parts.completions.flush().catch(() => {});
    await this.parts.taskCounts.close();
    await this.parts.events?.flush();
    for (const t of this.timers) clearInterval(t);
    await this.parts.housekeeping?.stop();
    this.parts.leases.stop();
    this.parts.gate?.stop();
    await this.heartbeats.stop();
    // A failure while closing is logged: the worker still ends stopped, never half-way.
    await this.control
      ?.close()
      .catch((e) => logger.warn(`worker ${this.id}: closing control failed: ${e.message}`));
    await this.parts.executor
      .close()
      .catch((e) => logger.warn(`worker ${this.id}: closing the executor failed: ${e.message}`));
    this.removeSignalHandlers?.();
    this.state = "stopped";
    unregisterWorker(this.id);
    signals.workerShutdown.emit(base);
    logger.info(`worker ${this.id} stopped`);
    this.markDone();
  }
}
