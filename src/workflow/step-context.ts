/**
 * The context one step call gets: its identity, the resume data meant for it, and the
 * suspension it asks for (recorded here, acted on by the execution once the handler
 * returns).
 */
import type { Clock } from "../core/clock.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { StemError } from "../core/errors.ts";
import { WorkflowEventTimeoutError, WorkflowInterrupt } from "./errors.ts";
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
  /** The resumed sleep was passed, or the handler took the resume data. */
  private wakeUsed = false;
  /** The resumed event (or its timeout) was handed to an awaitEvent call. */
  private eventUsed = false;

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

  /**
   * Records the suspension and returns a promise rejected with WorkflowInterrupt, which
   * unwinds the handler (code after `await step.sleep()` does not run on this pass). The
   * rejection is pre-handled so a handler that forgets `await` does not crash the process.
   */
  private suspend(control: StepControl): Promise<never> {
    this.control = control;
    const interrupt = Promise.reject(
      new WorkflowInterrupt("suspended", `step "${this.stepName}" suspended (${control.type})`),
    );
    interrupt.catch(() => {});
    return interrupt;
  }

  sleep(duration: DurationInput, options: { data?: unknown } = {}): Promise<void> {
    const delayMs = parseDuration(duration, `step "${this.stepName}": sleep duration`);
    const resumed = this.init.resumption;
    // The first sleep of a step resumed from a sleep whose wake time has come is that same
    // sleep, already over: it returns at once. Once the handler took the resume data (it
    // handles the wake-up itself) or passed that sleep, every sleep is a new one.
    if (
      !this.wakeUsed &&
      resumed?.type === "sleep" &&
      typeof resumed.resumeAt === "number" &&
      resumed.resumeAt <= this.init.clock.now()
    ) {
      this.wakeUsed = true;
      return Promise.resolve();
    }
    return this.suspend({ type: "sleep", delayMs, data: options.data });
  }

  awaitEvent<T = unknown>(
    topic: string,
    options: { timeout?: DurationInput; data?: Record<string, unknown> } = {},
  ): Promise<T> {
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
    if (!this.eventUsed && resumed?.type === "event" && resumed.topic === topic) {
      this.eventUsed = true;
      if (typeof resumed.deliveredAt === "number") return Promise.resolve(resumed.payload as T);
      // Resumed without a delivery: the wait reached its deadline.
      return Promise.reject(
        new WorkflowEventTimeoutError(topic, Number(resumed.deadline ?? this.init.clock.now())),
      );
    }
    return this.suspend({ type: "event", topic, timeoutMs, data: options.data });
  }

  takeResumeData<T = unknown>(): T | undefined {
    this.wakeUsed = true;
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
