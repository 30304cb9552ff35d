import type { Broker, LockStore, ResultBackend, TaskEventBus } from "../adapters/contracts.ts";
import { TaskEventHub } from "../events/hub.ts";
import { TaskEventPublisher } from "../events/publisher.ts";
import type { TaskEvent } from "../events/types.ts";
import { waitWithEvents } from "../events/wait.ts";
import { currentInstrumentation } from "../observability/instrumentation.ts";
import { envelopeOfCall, queuedStatus } from "./call-envelope.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Enqueuer, TaskCall } from "./definition.ts";
import { parseDuration } from "./duration.ts";
import { throughEnqueueMiddleware } from "./enqueue-middleware.ts";
import type { EnqueueOptions } from "./enqueue-options.ts";
import { type Envelope, MetaKeys } from "./envelope.ts";
import { checkEnvelopeSize, resolveMaxEnvelopeBytes } from "./envelope-size.ts";
import { StemError, TimeoutError } from "./errors.ts";
import { IgnoredResults, resultIgnored, waitRefused } from "./ignore-result.ts";
import { logger } from "./logger.ts";
import { checkMiddleware, type Middleware } from "./middleware.ts";
import { TaskRegistry } from "./registry.ts";
import { Router, type RoutingRule } from "./routing.ts";
import { signals } from "./signals.ts";
import {
  isTerminal,
  type TaskError,
  type TaskState,
  type TaskStatus,
  wasPublished,
} from "./states.ts";
import type { AnyTaskHandler } from "./task.ts";
import { uniqueKeyFor } from "./unique.ts";
import { uniquenessOf } from "./unique-call.ts";

/** Changes an envelope just before it is published (payload signing, trace headers). */
export type EnvelopeHook = (envelope: Envelope) => Envelope | Promise<Envelope>;

export interface StemOptions {
  broker: Broker;
  backend: ResultBackend;
  /** Known tasks: unknown names are refused at enqueue when given. */
  tasks?: AnyTaskHandler[] | TaskRegistry;
  routing?: RoutingRule[];
  /** Default `STEM_DEFAULT_QUEUE`, else `default`. */
  defaultQueue?: string;
  /** Needed for `unique` tasks. */
  lockStore?: LockStore;
  clock?: Clock;
  /** Applied to every envelope before publishing, in order, after the enqueue middleware. */
  beforePublish?: EnvelopeHook[];
  /** Middleware (see `use`); this array is used as given, so later additions apply. */
  middleware?: Middleware[];
  /**
   * Envelopes larger than this (bytes of JSON, after the `beforePublish` hooks) are
   * refused at enqueue. Default: STEM_MAX_ENVELOPE_BYTES, else 1 MiB.
   */
  maxEnvelopeBytes?: number;
  /**
   * Task events of the backend's store: the producer announces `queued` on it, and
   * `waitForTask` waits on it instead of polling.
   */
  events?: TaskEventBus;
}

/** Options of `waitForTask`. */
export interface WaitOptions {
  /** Give up after this long (default 5 minutes): TimeoutError. */
  timeout?: number | string;
  /**
   * With task events, read the status at least this often anyway, as an event can be
   * missed (default 1 s). Without task events the status is polled every 5 to 200 ms.
   */
  pollInterval?: number | string;
}

/** The outcome of a task, as `waitForTask` returns it. */
export interface TaskResult<T = unknown> {
  id: string;
  state: TaskState;
  value?: T;
  error?: TaskError;
  /** The number of the attempt that finished the task (from 1). */
  attempt: number;
  status: TaskStatus;
}

/** The producer: enqueues tasks and reads their results. */
export class Stem implements Enqueuer {
  readonly broker: Broker;
  readonly backend: ResultBackend;
  readonly registry?: TaskRegistry;
  readonly router: Router;
  private readonly lockStore?: LockStore;
  private readonly clock: Clock;
  private readonly hooks: EnvelopeHook[];
  private readonly publishWithStatuses: ReturnType<NonNullable<Broker["publishWithStatuses"]>>;
  private readonly publishUnlessLive: ReturnType<
    NonNullable<Broker["publishWithStatusesUnlessLive"]>
  >;
  private readonly publishUnlessStarted: ReturnType<
    NonNullable<Broker["publishWithStatusesUnlessStarted"]>
  >;
  private readonly ignoredResults = new IgnoredResults();
  private readonly maxEnvelopeBytes: number;
  /** Middleware in registration order; workers made with this producer run its `execute`. */
  readonly middleware: Middleware[];
  /** The shared subscription to task events, when the producer has them. */
  readonly eventHub?: TaskEventHub;
  private readonly eventPublisher?: TaskEventPublisher;

  constructor(options: StemOptions) {
    this.broker = options.broker;
    this.backend = options.backend;
    this.registry =
      options.tasks instanceof TaskRegistry
        ? options.tasks
        : options.tasks
          ? new TaskRegistry(options.tasks)
          : undefined;
    this.router = new Router(
      options.routing,
      options.defaultQueue ?? process.env.STEM_DEFAULT_QUEUE ?? "default",
    );
    this.lockStore = options.lockStore;
    this.maxEnvelopeBytes = resolveMaxEnvelopeBytes(options.maxEnvelopeBytes);
    this.clock = options.clock ?? systemClock;
    this.hooks = options.beforePublish ?? [];
    this.middleware = options.middleware ?? [];
    this.publishWithStatuses = options.broker.publishWithStatuses?.(options.backend) ?? null;
    this.publishUnlessLive =
      options.broker.publishWithStatusesUnlessLive?.(options.backend) ?? null;
    this.publishUnlessStarted =
      options.broker.publishWithStatusesUnlessStarted?.(options.backend) ?? null;
    if (options.events) {
      this.eventHub = new TaskEventHub(options.events);
      this.eventPublisher = new TaskEventPublisher(options.events);
    }
  }

  /** Sends task events still queued (before the stores close). */
  async flushEvents(): Promise<void> {
    await this.eventPublisher?.flush();
  }

  /**
   * Adds middleware around enqueue (and, on workers made with this producer, around
   * execution); runs after the middleware added before it. Returns this producer.
   */
  use(middleware: Middleware): this {
    this.middleware.push(checkMiddleware(middleware));
    return this;
  }

  /** Enqueues one task and returns its id. */
  async enqueue(
    name: string,
    args: Record<string, unknown> = {},
    options: EnqueueOptions = {},
  ): Promise<string> {
    const [id] = await this.enqueueMany([{ name, args, options }]);
    return id;
  }

  /** Enqueues a prepared call (from `definition.call(args)`). */
  enqueueCall(call: TaskCall): Promise<string> {
    return this.enqueue(call.name, call.args, call.options);
  }

  /**
   * Enqueues many tasks with one broker round trip. Returns their ids in order; for a
   * unique task that is already pending, the id of the pending one.
   */
  enqueueMany(calls: TaskCall[]): Promise<string[]> {
    return this.enqueueTraced(calls, false);
  }

  /**
   * Enqueues tasks under caller-chosen ids (`options.taskId`) that must run once each: a
   * task that has started under its id, or finished, is left alone; one still queued is
   * published again, which the broker refuses while it holds the id. A worker continuing
   * a canvas enqueues its next steps so: a redelivery may continue it a second time.
   */
  enqueueOnce(calls: TaskCall[]): Promise<string[]> {
    return this.enqueueTraced(calls, true);
  }

  private async enqueueTraced(calls: TaskCall[], once: boolean): Promise<string[]> {
    const instrumentation = currentInstrumentation();
    if (!instrumentation) return this.enqueueEnvelopes(calls, once);
    // Telemetry: a span per envelope, ended when the publish settles.
    const finished: ((error?: unknown) => void)[] = [];
    try {
      const ids = await this.enqueueEnvelopes(calls, once, (envelope) =>
        finished.push(instrumentation.enqueue(envelope)),
      );
      for (const finish of finished) finish();
      return ids;
    } catch (error) {
      for (const finish of finished) finish(error);
      throw error;
    }
  }

  private async enqueueEnvelopes(
    calls: TaskCall[],
    once: boolean,
    instrument?: (envelope: Envelope) => void,
  ): Promise<string[]> {
    // Uniqueness locks taken by this call: released if the tasks are never published, so
    // the next enqueue for the key does not return the id of a task that does not exist.
    const claimed: { key: string; owner: string }[] = [];
    try {
      return await this.claimAndPublish(calls, claimed, once, instrument);
    } catch (error) {
      await this.releaseClaims(claimed);
      throw error;
    }
  }

  private async releaseClaims(claimed: { key: string; owner: string }[]): Promise<void> {
    if (!this.lockStore) return;
    for (const { key, owner } of claimed) {
      try {
        await this.lockStore.release(key, owner);
      } catch (error) {
        // The lock then lapses at its TTL; the publish error is the one the caller sees.
        logger.warn(
          `releasing the uniqueness lock ${key} after a failed enqueue failed: ${(error as Error).message}`,
        );
      }
    }
  }

  private async claimAndPublish(
    calls: TaskCall[],
    claimed: { key: string; owner: string }[],
    once: boolean,
    instrument?: (envelope: Envelope) => void,
  ): Promise<string[]> {
    const now = this.clock.now();
    const ids: string[] = [];
    const prepared: Envelope[] = [];
    const explicitIds = new Set<string>();
    for (const call of calls) {
      const envelope = envelopeOfCall(call, now, this.registry, this.router);
      const unique = uniquenessOf(call.name, call.options, this.registry?.get(call.name)?.options);
      if (unique) {
        if (unique.key !== undefined) envelope.meta.uniqueKey = unique.key;
        const existing = await this.claimUnique(envelope, unique.ttlMs);
        if (existing) {
          ids.push(existing);
          continue;
        }
        claimed.push({ key: envelope.meta[MetaKeys.uniqueKey] as string, owner: envelope.id });
      }
      instrument?.(envelope);
      ids.push(envelope.id);
      prepared.push(envelope);
      if (call.options?.taskId) explicitIds.add(envelope.id);
    }
    await throughEnqueueMiddleware(this.middleware, prepared, (envelopes) =>
      this.publishPrepared(envelopes, explicitIds, now, once),
    );
    return ids;
  }

  /** Runs the `beforePublish` hooks, then stores queued statuses and publishes. */
  private async publishPrepared(
    prepared: Envelope[],
    explicitIds: Set<string>,
    now: number,
    once: boolean,
  ): Promise<void> {
    const fresh: Envelope[] = [];
    const explicit: Envelope[] = [];
    const resultless: Envelope[] = [];
    const encoded = new Map<Envelope, string>();
    for (let envelope of prepared) {
      for (const hook of this.hooks) envelope = await hook(envelope);
      encoded.set(envelope, checkEnvelopeSize(envelope, this.maxEnvelopeBytes));
      if (resultIgnored(envelope)) {
        this.ignoredResults.add(envelope.id);
        resultless.push(envelope);
      } else (explicitIds.has(envelope.id) ? explicit : fresh).push(envelope);
    }
    // No status at all for a task that keeps none (`ignoreResult`).
    if (resultless.length > 0) await this.publish(resultless, encoded);
    // The queued status is written BEFORE publishing, so it can never land after (and
    // overwrite) a worker's "running" or final status. A fresh id cannot collide.
    if (fresh.length > 0) {
      const statuses = fresh.map((e) => queuedStatus(e, now));
      if (this.publishWithStatuses) {
        await this.publish(fresh, encoded, statuses);
      } else {
        await this.backend.set(statuses);
        await this.publish(fresh, encoded);
      }
    }
    if (explicit.length > 0) await this.publishExplicit(explicit, encoded, now, once);
  }

  /**
   * Publishes tasks under caller-chosen ids (Beat, canvas). Such an id may name a task that
   * is still live: its status is left alone and the broker refuses the duplicate. One that
   * has finished is started again, unless `once`: then a task that has started under the
   * id, or finished, is left alone.
   */
  private async publishExplicit(
    explicit: Envelope[],
    encoded: Map<Envelope, string>,
    now: number,
    once: boolean,
  ): Promise<void> {
    const atomic = once ? this.publishUnlessStarted : this.publishUnlessLive;
    if (atomic) {
      const statuses = explicit.map((e) => queuedStatus(e, now));
      await this.publish(explicit, encoded, statuses, atomic);
      return;
    }
    const previous = await this.backend.getMany(explicit.map((e) => e.id));
    const restart = (status: TaskStatus | null) =>
      status === null || (!once && isTerminal(status.state));
    const startable = explicit.filter((_, i) => restart(previous[i]));
    if (startable.length > 0) await this.backend.set(startable.map((e) => queuedStatus(e, now)));
    const publishable = once ? explicit.filter((_, i) => !wasPublished(previous[i])) : explicit;
    if (publishable.length > 0) await this.publish(publishable, encoded);
  }

  /**
   * Publishes; with `statuses`, stores them first in the same step (`Broker.publishWithStatuses`,
   * or the `withStatuses` given).
   */
  private async publish(
    envelopes: Envelope[],
    encoded: Map<Envelope, string>,
    statuses?: TaskStatus[],
    withStatuses = this.publishWithStatuses,
  ) {
    // The size check's JSON is handed on, unless a listener here could change an envelope.
    const json = signals.beforeTaskPublish.hasListeners
      ? undefined
      : envelopes.map((envelope) => encoded.get(envelope)!);
    for (const envelope of envelopes) signals.beforeTaskPublish.emit({ envelope });
    const result =
      statuses && withStatuses
        ? await withStatuses(statuses, envelopes, json)
        : await this.broker.publish(envelopes, json);
    for (const envelope of envelopes) signals.afterTaskPublish.emit({ envelope });
    if (this.eventPublisher)
      this.eventPublisher.add(() => queuedEvents(envelopes, result.accepted));
    return result;
  }

  /** Takes the uniqueness lock; returns the id of the task already holding it, if any. */
  private async claimUnique(envelope: Envelope, ttl: number): Promise<string | null> {
    if (!this.lockStore) {
      throw new StemError(
        "invalid_argument",
        `task "${envelope.name}" is unique but the producer has no lock store`,
      );
    }
    const key = uniqueKeyFor(envelope);
    for (let i = 0; i < 3; i++) {
      if (await this.lockStore.acquire(key, envelope.id, ttl)) {
        envelope.meta[MetaKeys.uniqueKey] = key;
        return null;
      }
      const owner = await this.lockStore.ownerOf(key);
      if (owner) return owner;
      // The lock expired between the two calls: try again.
    }
    throw new StemError("conflict", `could not claim uniqueness for task "${envelope.name}"`);
  }

  /**
   * Whether an enqueue of `name` with these options keeps no status or result: the
   * per-call `ignoreResult`, else the registered task's. Lets a caller refuse a wait
   * before enqueuing.
   */
  ignoresResult(name: string, options: EnqueueOptions = {}): boolean {
    return options.ignoreResult ?? this.registry?.get(name)?.options.ignoreResult ?? false;
  }

  /** The task's stored status, or null when unknown or expired. */
  getTaskStatus(id: string): Promise<TaskStatus | null> {
    return this.backend.get(id);
  }

  /**
   * Waits until the task reaches a final state and returns its outcome (a failed task is
   * returned with its error, not thrown). Throws TimeoutError after `timeout`, and a
   * StemError at once for a task this producer enqueued with `ignoreResult`.
   */
  async waitForTask<T = unknown>(id: string, options: WaitOptions = {}): Promise<TaskResult<T>> {
    if (this.ignoredResults.has(id)) throw waitRefused(`task ${id}`);
    const timeoutMs = parseDuration(options.timeout ?? "5m", "timeout");
    const pollMs =
      options.pollInterval === undefined
        ? undefined
        : parseDuration(options.pollInterval, "pollInterval");
    const status = (await waitWithEvents(this.eventHub, {
      read: () => this.backend.get(id),
      done: (status) => status !== null && isTerminal(status.state),
      deadline: Date.now() + timeoutMs,
      onTimeout: (status) =>
        new TimeoutError(
          `task ${id} did not finish within ${timeoutMs} ms (state: ${status?.state ?? "unknown"})`,
        ),
      taskIds: [id],
      pollMs,
    }))!;
    return {
      id,
      state: status.state,
      value: status.result as T,
      error: status.error,
      attempt: status.attempt,
      status,
    };
  }
}

/** `queued` events for the envelopes the broker accepted. */
function queuedEvents(envelopes: Envelope[], accepted: string[]): TaskEvent[] {
  const ids = new Set(accepted);
  return envelopes
    .filter((e) => ids.has(e.id))
    .map((e) => ({
      state: "queued",
      taskId: e.id,
      name: e.name,
      queue: e.queue,
      at: e.enqueuedAt,
      attempt: e.attempt,
    }));
}
