/**
 * StemWorkflowApp: a StemApp that also runs workflows — the workflow store, a runtime,
 * the `stem.workflow.run` task on its worker and the due-run sweeper, in one call. An app
 * given no workflows is a workflow client: it starts, inspects, signals and cancels runs
 * that other processes' workers execute.
 */
import type { WorkflowRun, WorkflowRunQuery } from "../adapters/contracts.ts";
import { StemApp, type StemClient, type StemClientOptions } from "../app/client.ts";
import type { ConfigOverrides } from "../app/config.ts";
import type { DurationInput } from "../core/duration.ts";
import type { RetryBackoff } from "../core/retry.ts";
import type { WorkerOptions } from "../worker/worker.ts";
import type { AnyWorkflowDefinition } from "./definition.ts";
import { type WorkflowRunDetail, WorkflowRuntime } from "./runtime.ts";
import { WorkflowSweeper } from "./sweeper.ts";
import type { StartWorkflowOptions } from "./types.ts";

/** Runtime settings of a workflow app. */
export interface WorkflowRuntimeSettings {
  /** Queue for workflow run tasks (the app's worker consumes it). Default: the default queue. */
  queue?: string;
  /** How often the sweeper looks for due runs. Default 1 s. */
  pollInterval?: DurationInput;
  /** Execution lease on a run. Default 30 s. */
  runLease?: DurationInput;
  /** Retries of a failing step before the run fails. Default 5. */
  maxRetries?: number;
  retryBackoff?: RetryBackoff;
  /** Re-enqueue running runs untouched this long. Default 5 min. */
  recoverAfter?: DurationInput;
  /** Keep an event that finds no run waiting this long for the next one. Default 24 h; 0 off. */
  eventRetention?: DurationInput;
  /** Delete finished runs not updated this long. Default 7 days; 0 keeps them. */
  runRetention?: DurationInput;
}

export interface StemWorkflowAppOptions extends StemClientOptions {
  /** Workflows made with Flow(). */
  flows?: AnyWorkflowDefinition[];
  /** Workflows made with WorkflowScript(). */
  scripts?: AnyWorkflowDefinition[];
  /** Either kind. */
  workflows?: AnyWorkflowDefinition[];
  worker?: Partial<WorkerOptions>;
  workflow?: WorkflowRuntimeSettings;
}

type ClientConstructor<T> = new (...args: ConstructorParameters<typeof StemApp>) => T;

/**
 * Tasks and workflows with their worker, ready to use:
 *
 * ```ts
 * const app = await StemWorkflowApp.inMemory({ flows: [myFlow] });
 * const runId = await app.startWorkflow("my.flow", { params: { userId: "42" } });
 * const run = await app.waitForCompletion(runId);
 * await app.shutdown();
 * ```
 */
export class StemWorkflowApp extends StemApp {
  private workflowRuntime?: WorkflowRuntime;
  private sweeper?: WorkflowSweeper;

  /** The runtime (available once started, which the factories do). */
  get runtime(): WorkflowRuntime {
    if (!this.workflowRuntime) throw new Error("the workflow app has not been started");
    return this.workflowRuntime;
  }

  override async start(workerOptions: Partial<WorkerOptions> = {}): Promise<this> {
    if (this.workflowRuntime) return this;
    const options = this.options as StemWorkflowAppOptions;
    const settings = options.workflow ?? {};
    const store = (await this.connection(this.config.workflowStoreUrl)).workflowStore();
    const runtime = new WorkflowRuntime({
      store,
      stem: this.stem,
      workflows: [
        ...(options.flows ?? []),
        ...(options.scripts ?? []),
        ...(options.workflows ?? []),
      ],
      clock: options.clock,
      queue: settings.queue ?? this.config.defaultQueue,
      runLease: settings.runLease,
      maxRetries: settings.maxRetries,
      retryBackoff: settings.retryBackoff,
      recoverAfter: settings.recoverAfter,
      eventRetention: settings.eventRetention,
      runRetention: settings.runRetention,
    });
    this.workflowRuntime = runtime;
    const queues = workerOptions.queues ?? [this.config.defaultQueue];
    // An app without workflows only starts, inspects and signals runs; workers elsewhere run them.
    if (runtime.registry.size > 0) {
      this.registry.register(runtime.taskHandler());
      if (!queues.includes(runtime.queue)) queues.push(runtime.queue);
    }
    await super.start({ ...workerOptions, queues });
    this.sweeper = new WorkflowSweeper(runtime, {
      lockStore: this.lockStore,
      pollInterval: settings.pollInterval,
    });
    this.sweeper.start();
    return this;
  }

  /** Starts a run of a registered workflow; returns its id. */
  startWorkflow(name: string, options?: StartWorkflowOptions): Promise<string> {
    return this.runtime.startWorkflow(name, options);
  }

  /** Waits for the run to complete, fail or be cancelled. */
  waitForCompletion(runId: string, options?: { timeout?: DurationInput }): Promise<WorkflowRun> {
    return this.runtime.waitForCompletion(runId, options);
  }

  /**
   * Resumes every run waiting on `topic` with `payload`; returns their ids. When none
   * waits, the event is kept (`eventRetention`) for the next run to wait on the topic.
   */
  emit(topic: string, payload?: unknown): Promise<string[]> {
    return this.runtime.emit(topic, payload);
  }

  /**
   * Deletes finished runs not updated for `olderThan`, with their checkpoints; returns how
   * many (with `dryRun`, how many it would delete).
   */
  pruneRuns(olderThan: DurationInput, options?: { dryRun?: boolean }): Promise<number> {
    return this.runtime.pruneRuns(olderThan, options);
  }

  cancel(runId: string, reason?: string): Promise<boolean> {
    return this.runtime.cancel(runId, reason);
  }

  rewind(runId: string, step: string): Promise<void> {
    return this.runtime.rewind(runId, step);
  }

  getRun(runId: string): Promise<WorkflowRun | null> {
    return this.runtime.getRun(runId);
  }

  listRuns(query?: WorkflowRunQuery): Promise<WorkflowRun[]> {
    return this.runtime.listRuns(query);
  }

  describeRun(runId: string): Promise<WorkflowRunDetail> {
    return this.runtime.describe(runId);
  }

  /** Runs one sweep now (tests with a fake clock call it after advancing). */
  sweep(): Promise<string[]> {
    return this.runtime.sweep();
  }

  /** Stops the sweeper and the worker, then closes every store. */
  shutdown(): Promise<void> {
    return this.close();
  }

  override async close(): Promise<void> {
    await this.sweeper?.stop();
    await super.close();
  }

  static override async create<T extends StemClient>(
    this: ClientConstructor<T>,
    options: StemWorkflowAppOptions & ConfigOverrides = {},
  ): Promise<T> {
    return StemApp.create.call(this, options) as Promise<T>;
  }

  static override async inMemory<T extends StemClient>(
    this: ClientConstructor<T>,
    options: StemWorkflowAppOptions = {},
  ): Promise<T> {
    return StemApp.inMemory.call(this, options) as Promise<T>;
  }

  static override async fromUrl<T extends StemClient>(
    this: ClientConstructor<T>,
    url: string,
    options: StemWorkflowAppOptions & { backendUrl?: string } = {},
  ): Promise<T> {
    return StemApp.fromUrl.call(this, url, options) as Promise<T>;
  }
}
