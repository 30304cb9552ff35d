/**
 * The parts a Worker is assembled from, built from its options: the executor, the batched
 * writers (results, counters, events), revocations, housekeeping, lease keeping, the
 * global concurrency gate, the task runner and the autoscaler. The Worker itself keeps
 * the fetch loop, the slots and the lifecycle.
 */
import type { ResultBackend } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { Middleware } from "../core/middleware.ts";
import type { TaskRegistry } from "../core/registry.ts";
import { ExponentialJitterRetryStrategy } from "../core/retry.ts";
import { Stem } from "../core/stem.ts";
import { TaskEventPublisher } from "../events/publisher.ts";
import { Autoscaler } from "./autoscale.ts";
import { Completions } from "./completions.ts";
import { ConcurrencyGate } from "./concurrency-gate.ts";
import { type Executor, InlineExecutor } from "./executor.ts";
import { Housekeeping } from "./housekeeping.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { Revocations } from "./revocations.ts";
import { TaskCounts } from "./task-counts.ts";
import { type HeldTask, TaskRunner } from "./task-runner.ts";
import { ThreadExecutor } from "./thread-executor.ts";
import type { WorkerOptions } from "./worker-options.ts";

/** Refuses options no worker can run with, naming the option; returns the starting concurrency. */
export function checkWorkerOptions(options: WorkerOptions): number {
  const concurrency = options.autoscale?.min ?? options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new StemError(
      "invalid_argument",
      `concurrency must be a positive integer, got ${concurrency}`,
    );
  }
  if (
    options.maxDeliveries !== undefined &&
    (!Number.isInteger(options.maxDeliveries) || options.maxDeliveries < 1)
  ) {
    throw new StemError(
      "invalid_argument",
      `maxDeliveries must be a positive integer, got ${options.maxDeliveries}`,
    );
  }
  if (!options.concurrencySlots && Object.keys(options.queueGlobalConcurrency ?? {}).length > 0) {
    throw new StemError(
      "invalid_argument",
      "queueGlobalConcurrency needs concurrencySlots (the store the limits are kept in)",
    );
  }
  return concurrency;
}

/** What the parts need to know about the worker they belong to. */
export interface WorkerSelf {
  id: string;
  queues: string[];
  clock: Clock;
  backend: ResultBackend;
  registry: TaskRegistry;
  leaseMs: number;
  middleware: Middleware[];
  /** The deliveries the worker holds now. */
  held(): Iterable<HeldTask>;
  /** Tasks running or waiting for a slot. */
  busy(): number;
  concurrency(): number;
  resize(concurrency: number): void;
}

export interface WorkerParts {
  executor: Executor;
  taskCounts: TaskCounts;
  events?: TaskEventPublisher;
  completions: Completions;
  revocations: Revocations;
  housekeeping?: Housekeeping;
  leases: LeaseKeeper;
  gate?: ConcurrencyGate;
  runner: TaskRunner;
  autoscaler?: Autoscaler;
}

export function buildWorkerParts(options: WorkerOptions, self: WorkerSelf): WorkerParts {
  const { broker } = options;
  const { id, clock, backend } = self;
  const executor =
    options.isolation === "thread"
      ? new ThreadExecutor({
          tasksModule: options.tasksModule ?? "",
          maxTasksPerThread: options.maxTasksPerThread,
        })
      : new InlineExecutor();
  const taskCounts = new TaskCounts(backend, clock, id);
  const events = options.events && new TaskEventPublisher(options.events);
  const completions = new Completions(
    broker,
    backend,
    (error) => logger.error(`worker ${id}: storing results failed: ${(error as Error).message}`),
    taskCounts,
    events,
  );
  const revocations = new Revocations(options.revokeStore, clock);
  const housekeeping =
    options.housekeeping === false
      ? undefined
      : new Housekeeping({
          broker,
          backend,
          revokeStore: options.revokeStore,
          lockStore: options.lockStore,
          clock,
          owner: id,
          deadLetterRetention: options.deadLetterRetention,
        });
  const leases = new LeaseKeeper({
    workerId: id,
    broker,
    registry: self.registry,
    clock,
    leaseMs: self.leaseMs,
    held: self.held,
  });
  const gate =
    options.concurrencySlots &&
    new ConcurrencyGate({
      workerId: id,
      slots: options.concurrencySlots,
      broker,
      queueLimits: options.queueGlobalConcurrency ?? {},
      leaseOf: (held) => leases.leaseOf(held),
      clock,
    });
  const stem =
    options.stem ??
    new Stem({
      broker,
      backend,
      lockStore: options.lockStore,
      clock,
      middleware: self.middleware,
      events: options.events,
    });
  const runner = new TaskRunner({
    workerId: id,
    broker,
    backend,
    maxDeliveries: options.maxDeliveries,
    registry: self.registry,
    completions,
    executor,
    stem,
    clock,
    retryStrategy: options.retryStrategy ?? new ExponentialJitterRetryStrategy(),
    revocations,
    rateLimiter: options.rateLimiter,
    lockStore: options.lockStore,
    leaseMs: self.leaseMs,
    verify: options.verify,
    onSettled: options.onSettled ?? [],
    middleware: self.middleware,
  });
  const autoscaler =
    options.autoscale &&
    new Autoscaler(options.autoscale, {
      depth: async () => (await broker.stats(self.queues)).reduce((n, s) => n + s.pending, 0),
      busy: self.busy,
      concurrency: self.concurrency,
      resize: self.resize,
    });
  return {
    executor,
    taskCounts,
    events,
    completions,
    revocations,
    housekeeping,
    leases,
    gate,
    runner,
    autoscaler,
  };
}
