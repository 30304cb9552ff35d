/**
 * The context one step call gets: its identity, the resume data meant for it, and the
 * suspension it asks for (recorded here, acted on by the execution once the handler
 * returns).
 */
import type { Clock } from "../core/clock.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { StemError } from "../core/errors.ts";
import { WorkflowEventTimeoutError } from "./errors.ts";
import type { WorkflowStepContext } from "./types.ts";

/** A suspension a step asked for. */
export type StepControl =
  | { type: "sleep"; delayMs: number; data: unknown }
  | {
      type: "event";
      topic: string;
      timeoutMs: number | undefined;
      data: Record<string, unknown> | undefined;
    };

/** The suspension data a run resumed with, when it belongs to this step call. */
export type Resumption = Record<string, unknown>;

export interface StepContextInit {
  workflow: string;
  runId: string;
  stepName: string;
  params: Record<string, unknown>;
  previousResult: unknown;
  iteration: number;
  stepIndex: number;
  signal: AbortSignal;
  clock: Clock;
  resumption: Resumption | null;
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
}

export class StepContext implements WorkflowStepContext {
  readonly workflow: string;
  readonly runId: string;
  readonly stepName: string;
  readonly params: Record<string, unknown>;
  readonly previousResult: unknown;
  readonly iteration: number;
  readonly stepIndex: number;
  readonly signal: AbortSignal;
  /** The suspension requested by the handler, if any. */
  control: StepControl | null = null;
  private readonly init: StepContextInit;
  private resumeTaken = false;

  constructor(init: StepContextInit) {
    this.init = init;
    this.workflow = init.workflow;
    this.runId = init.runId;
    this.stepName = init.stepName;
    this.params = init.params;
    this.previousResult = init.previousResult;
    this.iteration = init.iteration;
    this.stepIndex = init.stepIndex;
    this.signal = init.signal;
  }

  async sleep(duration: DurationInput, options: { data?: unknown } = {}): Promise<void> {
    const delayMs = parseDuration(duration, `step "${this.stepName}": sleep duration`);
    const resumed = this.init.resumption;
    // Resumed from a sleep whose wake time has come, and the handler did not take the
    // resume data itself: this is the same sleep, already over, so carry on. A handler
    // that took the resume data has handled the wake-up; its next sleep is a new one.
    if (
      !this.resumeTaken &&
      resumed?.type === "sleep" &&
      typeof resumed.resumeAt === "number" &&
      resumed.resumeAt <= this.init.clock.now()
    ) {
      this.resumeTaken = true;
      return;
    }
    this.control = { type: "sleep", delayMs, data: options.data };
  }

  async awaitEvent<T = unknown>(
    topic: string,
    options: { timeout?: DurationInput; data?: Record<string, unknown> } = {},
  ): Promise<T | undefined> {
    if (typeof topic !== "string" || topic.length === 0) {
      throw new StemError(
        "invalid_argument",
        `step "${this.stepName}": awaitEvent needs a non-empty topic`,
      );
    }
    const timeoutMs =
      options.timeout === undefined
        ? undefined
        : parseDuration(options.timeout, `step "${this.stepName}": awaitEvent timeout`);
    const resumed = this.init.resumption;
    if (resumed?.type === "event" && resumed.topic === topic) {
      if (typeof resumed.deliveredAt === "number") return resumed.payload as T;
      // Resumed without a delivery: the wait reached its deadline.
      throw new WorkflowEventTimeoutError(topic, Number(resumed.deadline ?? this.init.clock.now()));
    }
    this.control = { type: "event", topic, timeoutMs, data: options.data };
    return undefined;
  }

  takeResumeData<T = unknown>(): T | undefined {
    if (this.resumeTaken) return undefined;
    this.resumeTaken = true;
    return this.init.resumption?.payload as T | undefined;
  }

  idempotencyKey(scope?: string): string {
    const fallback = this.iteration > 0 ? `${this.stepName}#${this.iteration}` : this.stepName;
    return `${this.workflow}/${this.runId}/${scope || fallback}`;
  }

  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string> {
    return this.init.enqueue(name, args, options);
  }
}
