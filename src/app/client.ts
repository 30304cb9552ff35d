import type {
  Broker,
  ConcurrencySlots,
  ConnectOptions,
  ControlBus,
  LockStore,
  RateLimiter,
  ResultBackend,
  RevokeStore,
  StoreConnection,
  TaskEventBus,
} from "../adapters/contracts.ts";
import { openMemory } from "../adapters/memory/index.ts";
import { Canvas } from "../canvas/canvas.ts";
import { canvasSettledHook } from "../canvas/settle.ts";
import type { Clock } from "../core/clock.ts";
import type { TaskCall } from "../core/definition.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { TaskRegistry } from "../core/registry.ts";
import type { RoutingRule } from "../core/routing.ts";
import type { TaskStatus } from "../core/states.ts";
import { type EnvelopeHook, Stem, type TaskResult, type WaitOptions } from "../core/stem.ts";
import { TaskEventStream, type TaskEventStreamOptions } from "../events/stream.ts";
import type { AnyTaskHandler } from "../core/task.ts";
import type { Middleware } from "../core/middleware.ts";
import { Worker, type WorkerOptions } from "../worker/worker.ts";
import { type ConfigOverrides, type StemConfig, loadConfig } from "./config.ts";
import { Connections } from "./connections.ts";
import { PayloadSigner } from "../security/signing.ts";
import { signerFromEnv } from "../security/signing-config.ts";
import { ensureTelemetry, leaseTelemetry, telemetryRequested } from "../observability/telemetry.ts";

/** The client's signer: the given one, none for null, else the environment's. */
function resolveSigner(options: StemClientOptions): PayloadSigner | undefined {
  return options.signer === undefined
    ? (signerFromEnv() ?? undefined)
    : (options.signer ?? undefined);
}

export interface StemClientOptions {
  tasks?: AnyTaskHandler[];
  routing?: RoutingRule[];
  beforePublish?: EnvelopeHook[];
  clock?: Clock;
  connectOptions?: ConnectOptions;
  /**
   * Payload signing: the producer signs what it enqueues (with an active key) and the
   * workers made here verify. Default: from STEM_SIGNING_* (off when unset); null turns
   * it off.
   */
  signer?: PayloadSigner | null;
  /** Refuse envelopes larger than this many bytes at enqueue (default STEM_MAX_ENVELOPE_BYTES, else 1 MiB). */
  maxEnvelopeBytes?: number;
}

/** Every store a client uses, resolved from its configuration. */
interface ClientStores {
  broker: Broker;
  backend: ResultBackend;
  lockStore: LockStore;
  revokeStore: RevokeStore;
  rateLimiter: RateLimiter;
  concurrencySlots: ConcurrencySlots;
  controlBus: ControlBus;
  taskEvents: TaskEventBus;
}

/** The constructor the static factories call: StemClient or a subclass such as StemApp. */
type ClientClass<T> = new (
  config: StemConfig,
  stores: ClientStores,
  connections: Connections,
  options: StemClientOptions,
) => T;

/**
 * The producer side of an app: the task registry, the stores, and a `Stem` producer.
 * Make workers with `createWorker()`; close everything with `close()`.
 */
export class StemClient {
  readonly stem: Stem;
  /** Chains, groups and chords through this client's producer (workers it makes continue them). */
  readonly canvas: Canvas;
  readonly registry: TaskRegistry;
  readonly config: StemConfig;
  readonly broker: Broker;
  readonly backend: ResultBackend;
  readonly lockStore: LockStore;
  readonly revokeStore: RevokeStore;
  readonly rateLimiter: RateLimiter;
  /** Global concurrency limits (on the broker's store), shared by every worker. */
  readonly concurrencySlots: ConcurrencySlots;
  readonly controlBus: ControlBus;
  /** Task lifecycle events on the result backend's store (see `events()`). */
  readonly taskEvents: TaskEventBus;
  protected readonly options: StemClientOptions;
  private readonly connections: Connections;
  private readonly workers = new Set<Worker>();
  /** Open event streams, ended by `close()`. */
  private readonly streams = new Set<TaskEventStream>();
  /** Payload signing in use, if any. */
  readonly signer?: PayloadSigner;
  private readonly releaseTelemetry?: () => Promise<void>;

  /** Use the static factories (`create`, `inMemory`, `fromUrl`) instead. */
  constructor(
    config: StemConfig,
    stores: ClientStores,
    connections: Connections,
    options: StemClientOptions,
  ) {
    this.config = config;
    this.connections = connections;
    this.options = options;
    this.signer = resolveSigner(options);
    this.releaseTelemetry = leaseTelemetry();
    this.registry = new TaskRegistry(options.tasks ?? []);
    this.broker = stores.broker;
    this.backend = stores.backend;
    this.lockStore = stores.lockStore;
    this.revokeStore = stores.revokeStore;
    this.rateLimiter = stores.rateLimiter;
    this.concurrencySlots = stores.concurrencySlots;
    this.controlBus = stores.controlBus;
    this.taskEvents = stores.taskEvents;
    this.stem = new Stem({
      broker: this.broker,
      backend: this.backend,
      // Without a task list the producer cannot know every name, so it checks none.
      tasks: options.tasks?.length ? this.registry : undefined,
      routing: options.routing,
      defaultQueue: config.defaultQueue,
      lockStore: this.lockStore,
      clock: options.clock,
      maxEnvelopeBytes: options.maxEnvelopeBytes,
      // Signing comes last: the signature covers what the other hooks set.
      beforePublish: [
        ...(options.beforePublish ?? []),
        ...(this.signer?.canSign ? [this.signer.beforePublish] : []),
      ],
      events: this.taskEvents,
    });
    this.canvas = new Canvas(this.stem, options.clock);
    // Workers made here run the canvas's internal task (chord timeouts) too.
    if (!this.registry.get(this.canvas.timeoutTask.name))
      this.registry.register(this.canvas.timeoutTask);
  }

  protected static async open(
    config: StemConfig,
    options: StemClientOptions,
    connections: Connections,
  ): Promise<{ config: StemConfig; stores: ClientStores; connections: Connections }> {
    let broker: StoreConnection;
    let backend: StoreConnection;
    let locks: StoreConnection;
    // A signing or telemetry misconfiguration fails here, before anything is opened.
    resolveSigner(options);
    telemetryRequested();
    try {
      broker = await connections.get(config.brokerUrl);
      backend = await connections.get(config.backendUrl);
      locks = await connections.get(config.lockStoreUrl);
    } catch (error) {
      await connections.closeAll();
      throw error;
    }
    await ensureTelemetry();
    return {
      config,
      connections,
      stores: {
        broker: broker.broker(),
        backend: backend.resultBackend(),
        lockStore: locks.lockStore(),
        revokeStore: backend.revokeStore(),
        rateLimiter: broker.rateLimiter(),
        concurrencySlots: broker.concurrencySlots(),
        controlBus: broker.controlBus(),
        taskEvents: backend.taskEvents(),
      },
    };
  }

  /** A client whose stores are resolved from flags/overrides, STEM_* variables, then the embedded default. */
  static async create<T extends StemClient>(
    this: ClientClass<T>,
    options: StemClientOptions & ConfigOverrides = {},
  ): Promise<T> {
    const config = loadConfig(options);
    const opened = await StemClient.open(config, options, new Connections(options.connectOptions));
    return new this(opened.config, opened.stores, opened.connections, options);
  }

  /** Everything in process memory: for tests and single-process apps. */
  static async inMemory<T extends StemClient>(
    this: ClientClass<T>,
    options: StemClientOptions = {},
  ): Promise<T> {
    const memory = openMemory("memory://", { clock: options.clock });
    const connections = new Connections();
    connections.adopt(memory);
    const config = loadConfig(
      {
        brokerUrl: memory.url,
        backendUrl: memory.url,
        lockStoreUrl: memory.url,
        workflowStoreUrl: memory.url,
      },
      {},
    );
    const opened = await StemClient.open(config, options, connections);
    return new this(opened.config, opened.stores, opened.connections, options);
  }

  /** Every store on one URL (the backend may be moved with `backendUrl`). */
  static async fromUrl<T extends StemClient>(
    this: ClientClass<T>,
    url: string,
    options: StemClientOptions & { backendUrl?: string } = {},
  ): Promise<T> {
    const config = loadConfig(
      {
        brokerUrl: url,
        backendUrl: options.backendUrl ?? url,
        lockStoreUrl: url,
        workflowStoreUrl: options.backendUrl ?? url,
      },
      {},
    );
    const opened = await StemClient.open(config, options, new Connections(options.connectOptions));
    return new this(opened.config, opened.stores, opened.connections, options);
  }

  /**
   * Adds middleware around enqueue (this client's producer) and around execution (every
   * worker this client makes, including ones made before), after the middleware added
   * before it. Returns this client. See `Middleware`.
   */
  use(middleware: Middleware): this {
    this.stem.use(middleware);
    return this;
  }

  /** Enqueues a task; see Stem.enqueue. */
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string> {
    return this.stem.enqueue(name, args, options);
  }

  enqueueCall(call: TaskCall): Promise<string> {
    return this.stem.enqueueCall(call);
  }

  /** Waits for a task's final state, woken by task events; see Stem.waitForTask. */
  waitForTask<T = unknown>(id: string, options?: WaitOptions): Promise<TaskResult<T>> {
    return this.stem.waitForTask<T>(id, options);
  }

  /**
   * Task lifecycle events from every producer and worker on this client's result backend
   * store (queued, started, progress, retried, succeeded, failed, dead-lettered, revoked),
   * as an async iterator, optionally filtered by queue, task name, state or task id.
   * It subscribes at once (await `ready` to be sure it is live); `break`, `return()` or
   * `close()` unsubscribes. Best effort: events are delivered at most once and never
   * replayed; read results and states from the result backend.
   *
   * ```ts
   * for await (const event of client.events({ state: ["succeeded", "failed"] })) {
   *   console.log(event.state, event.name, event.taskId);
   * }
   * ```
   */
  events(filter: TaskEventStreamOptions = {}): TaskEventStream {
    const stream: TaskEventStream = new TaskEventStream(this.stem.eventHub!, filter, () =>
      this.streams.delete(stream),
    );
    this.streams.add(stream);
    return stream;
  }

  getTaskStatus(id: string): Promise<TaskStatus | null> {
    return this.stem.getTaskStatus(id);
  }

  /** The open connection for a URL this client uses (for stores not wired by default). */
  connection(url: string): Promise<StoreConnection> {
    return this.connections.get(url);
  }

  /** A worker for this client's tasks and stores; call `start()` on it. */
  createWorker(options: Partial<WorkerOptions> = {}): Worker {
    const worker = new Worker({
      broker: this.broker,
      backend: this.backend,
      tasks: this.registry,
      rateLimiter: this.rateLimiter,
      concurrencySlots: this.concurrencySlots,
      revokeStore: this.revokeStore,
      lockStore: this.lockStore,
      controlBus: this.controlBus,
      events: this.taskEvents,
      stem: this.stem,
      verify: this.signer?.verifier,
      clock: this.options.clock,
      queues: options.queues ?? [this.config.defaultQueue],
      ...options,
      deadLetterRetention: options.deadLetterRetention ?? this.config.deadLetterRetention,
      // Every worker continues canvases (chains, groups, chords) as their members settle.
      onSettled: [
        options.stem
          ? canvasSettledHook(options.stem, this.options.clock)
          : this.canvas.settledHook,
        ...(options.onSettled ?? []),
      ],
    });
    this.workers.add(worker);
    return worker;
  }

  /** Stops workers made by this client, ends its event streams, then closes every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.shutdown()));
    await Promise.all([...this.streams].map((stream) => stream.close()));
    await this.stem.flushEvents();
    await this.connections.closeAll();
    await this.releaseTelemetry?.();
  }
}

/**
 * A client with a worker of its own, started on creation: enqueue and wait in one process.
 */
export class StemApp extends StemClient {
  private appWorker?: Worker;

  /** The app's worker (started by `start()`, which the factories call). */
  get worker(): Worker {
    if (!this.appWorker) throw new Error("the app has not been started");
    return this.appWorker;
  }

  async start(options: Partial<WorkerOptions> = {}): Promise<this> {
    if (!this.appWorker) {
      this.appWorker = this.createWorker(options);
      await this.appWorker.start();
    }
    return this;
  }

  static override async create<T extends StemClient>(
    this: ClientClass<T>,
    options: StemClientOptions & ConfigOverrides & { worker?: Partial<WorkerOptions> } = {},
  ): Promise<T> {
    return startApp((await StemClient.create.call(this, options)) as T, options.worker);
  }

  static override async inMemory<T extends StemClient>(
    this: ClientClass<T>,
    options: StemClientOptions & { worker?: Partial<WorkerOptions> } = {},
  ): Promise<T> {
    return startApp((await StemClient.inMemory.call(this, options)) as T, options.worker);
  }

  static override async fromUrl<T extends StemClient>(
    this: ClientClass<T>,
    url: string,
    options: StemClientOptions & { backendUrl?: string; worker?: Partial<WorkerOptions> } = {},
  ): Promise<T> {
    return startApp((await StemClient.fromUrl.call(this, url, options)) as T, options.worker);
  }
}

/** Starts the worker of an app made by one of StemClient's factories. */
async function startApp<T>(app: T, worker?: Partial<WorkerOptions>): Promise<T> {
  await (app as unknown as StemApp).start(worker);
  return app;
}
