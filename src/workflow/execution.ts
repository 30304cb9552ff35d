/**
 * One execution of a run: replays the workflow body from the top, answering completed
 * steps from their checkpoints and running the first unfinished one, until the body
 * returns (the run completes), a step suspends, or the run is cancelled.
 */
import type { WorkflowRun, WorkflowStore } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { StemError, WorkflowFenceError } from "../core/errors.ts";
import { signals } from "../core/signals.ts";
import { versionedName } from "./checkpoints.ts";
import { type AnyWorkflowDefinition, checkStepName } from "./definition.ts";
import { WorkflowInterrupt } from "./errors.ts";
import { isFinished } from "./run-transitions.ts";
import { policyDeadline, policyViolation } from "./policy.ts";
import { workflowParams } from "./run-metadata.ts";
import { type Resumption, StepContext, type StepControl } from "./step-context.ts";
import type { WorkflowScriptContext, WorkflowStepHandler, WorkflowStepOptions } from "./types.ts";

export interface ExecutionInit {
  store: WorkflowStore;
  clock: Clock;
  run: WorkflowRun;
  /** The execution's claim token: every store write carries it and is refused once stale. */
  fence: number;
  definition: AnyWorkflowDefinition;
  /** Fires when the lease is lost or the worker stops the task. */
  signal: AbortSignal;
  leaseLost(): boolean;
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
  /** Cancels the run for a policy limit (records it, emits the signal). */
  cancelForPolicy(
    run: WorkflowRun,
    reason: string,
    details: Record<string, unknown>,
  ): Promise<void>;
}

/** How an execution ended. */
export type ExecutionEnd =
  | { kind: "completed"; result: unknown }
  | { kind: "suspended" }
  | { kind: "resumed" }
  | { kind: "cancelled" }
  | { kind: "lease-lost" };

export class ScriptExecution implements WorkflowScriptContext {
  readonly workflow: string;
  readonly runId: string;
  readonly params: Record<string, unknown>;
  private readonly init: ExecutionInit;
  private readonly iterations = new Map<string, number>();
  /** The suspension the run resumed with; handed to the step call it belongs to, once. */
  private resumption: Resumption | null;
  private previousResult: unknown = undefined;
  private stepIndex = 0;
  private interrupt: WorkflowInterrupt | null = null;

  constructor(init: ExecutionInit) {
    this.init = init;
    this.workflow = init.run.workflow;
    this.runId = init.run.id;
    this.params = workflowParams(init.run);
    const data = init.run.suspensionData;
    this.resumption = data && typeof data.step === "string" ? data : null;
  }

  /** Runs the body to its end or to the first interruption. Step errors propagate. */
  async execute(): Promise<ExecutionEnd> {
    let result: unknown;
    try {
      result = await this.init.definition.body(this);
    } catch (error) {
      if (error instanceof WorkflowInterrupt) return this.end(error);
      if (this.interrupt) return this.end(this.interrupt);
      throw error;
    }
    // The body swallowed an interruption: it still ends the execution.
    if (this.interrupt) return this.end(this.interrupt);
    return { kind: "completed", result };
  }

  private end(interrupt: WorkflowInterrupt): ExecutionEnd {
    return { kind: interrupt.kind };
  }

  private stop(kind: WorkflowInterrupt["kind"], message: string): never {
    this.interrupt = new WorkflowInterrupt(kind, message);
    throw this.interrupt;
  }

  async step<T>(
    name: string,
    handler: WorkflowStepHandler<T>,
    options: WorkflowStepOptions = {},
  ): Promise<T> {
    if (this.interrupt) throw this.interrupt;
    checkStepName(name, this.workflow);
    let iteration = 0;
    if (options.autoVersion) {
      iteration = this.iterations.get(name) ?? 0;
      this.iterations.set(name, iteration + 1);
    }
    const checkpoint = options.autoVersion ? versionedName(name, iteration) : name;
    const { store } = this.init;
    const cached = await store.readStep(this.runId, checkpoint);
    if (cached !== undefined && cached !== null) {
      this.previousResult = cached;
      this.stepIndex++;
      return cached as T;
    }
    await this.checkStillOurs();
    await this.fenced(() => store.markRunning(this.runId, { stepName: name, fence: this.fence }));
    const context = new StepContext({
      workflow: this.workflow,
      runId: this.runId,
      stepName: name,
      params: this.params,
      previousResult: this.previousResult,
      iteration,
      stepIndex: this.stepIndex,
      signal: this.init.signal,
      clock: this.init.clock,
      resumption: this.takeResumption(name, iteration),
      enqueue: this.init.enqueue,
    });
    let result: T | undefined;
    let failure: { error: unknown } | null = null;
    try {
      result = await handler(context);
    } catch (error) {
      failure = { error };
    }
    if (this.init.leaseLost()) this.stop("lease-lost", `lost the lease on run ${this.runId}`);
    // A requested suspension wins over whatever the handler did after asking for it.
    if (context.control) {
      if (await this.fenced(() => this.suspend(name, iteration, context.control!)))
        this.stop("resumed", `run ${this.runId} resumed at once by a kept event`);
      this.stop("suspended", `run ${this.runId} suspended in step "${name}"`);
    }
    if (failure) {
      // An interrupt without a suspension of this step: a context used outside its step.
      if (failure.error instanceof WorkflowInterrupt) {
        throw new StemError(
          "invalid_argument",
          `step "${name}" awaited a suspension of another step's context`,
        );
      }
      throw failure.error;
    }
    // null/undefined means "not done yet": nothing is saved and the step runs again on resume.
    if (result !== undefined && result !== null) {
      await this.fenced(() =>
        store.saveStep(this.runId, checkpoint, result, { fence: this.fence }),
      );
      signals.workflowStepCompleted.emit({
        runId: this.runId,
        workflow: this.workflow,
        status: "running",
        step: name,
        metadata: { checkpoint, iteration, result },
      });
    }
    this.previousResult = result;
    this.stepIndex++;
    return result as T;
  }

  private get fence(): number {
    return this.init.fence;
  }

  /** Runs a fenced write; a refusal (another execution claimed the run) ends this one. */
  private async fenced<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof WorkflowFenceError) this.stop("lease-lost", error.message);
      throw error;
    }
  }

  private takeResumption(name: string, iteration: number): Resumption | null {
    const r = this.resumption;
    if (!r || r.step !== name || Number(r.iteration ?? 0) !== iteration) return null;
    this.resumption = null;
    return r;
  }

  /** Before running a step: the lease is still ours, the run still live and within its policy. */
  private async checkStillOurs(): Promise<void> {
    if (this.init.leaseLost()) this.stop("lease-lost", `lost the lease on run ${this.runId}`);
    const run = await this.init.store.get(this.runId);
    if (!run || isFinished(run.status))
      this.stop("cancelled", `run ${this.runId} is ${run?.status ?? "gone"}`);
    if (run.fencingToken !== this.fence)
      this.stop("lease-lost", `run ${this.runId} was claimed by another execution`);
    const violation = policyViolation(run, this.init.clock.now(), false);
    if (violation) {
      await this.init.cancelForPolicy(run, violation.reason, violation.details);
      this.stop("cancelled", `run ${this.runId} cancelled: ${violation.reason}`);
    }
  }

  /** Suspends the run as the step asked; true when a kept event resumed it at once. */
  private async suspend(step: string, iteration: number, control: StepControl): Promise<boolean> {
    const { store, clock, run } = this.init;
    const now = clock.now();
    const base: Record<string, unknown> = {
      step,
      iteration,
      iterationStep: step,
      suspendedAt: now,
    };
    const limit = policyDeadline(run, now);
    if (limit !== null) base.policyDeadline = limit;
    if (control.type === "sleep") {
      const requested = now + control.delayMs;
      const resumeAt = limit !== null && limit < requested ? limit : requested;
      const data = {
        ...base,
        type: "sleep",
        requestedResumeAt: requested,
        resumeAt,
        policyDeadlineApplied: resumeAt !== requested,
        payload: control.data === undefined ? true : control.data,
      };
      await store.suspendUntil(this.runId, step, resumeAt, data, { fence: this.fence });
      await this.emitSuspended(step, { type: "sleep", resumeAt });
      return false;
    }
    const requested = control.timeoutMs === undefined ? null : now + control.timeoutMs;
    let deadline = requested;
    if (limit !== null && (deadline === null || limit < deadline)) deadline = limit;
    const data: Record<string, unknown> = {
      ...control.data,
      ...base,
      type: "event",
      topic: control.topic,
      requestedDeadline: requested,
      deadline,
      policyDeadlineApplied: deadline !== requested,
    };
    const resolution = await store.suspendOnTopic(this.runId, step, control.topic, {
      deadline: deadline ?? undefined,
      data,
      fence: this.fence,
    });
    if (resolution) {
      signals.workflowRunResumed.emit({
        runId: this.runId,
        workflow: this.workflow,
        status: "running",
        step,
        metadata: { reason: "event", topic: control.topic, kept: true },
      });
      return true;
    }
    await this.emitSuspended(step, { type: "event", topic: control.topic, deadline });
    return false;
  }

  private async emitSuspended(step: string, metadata: Record<string, unknown>): Promise<void> {
    // Cancelled while the step ran: the store did not suspend it.
    const run = await this.init.store.get(this.runId);
    if (!run || isFinished(run.status)) return;
    signals.workflowRunSuspended.emit({
      runId: this.runId,
      workflow: this.workflow,
      status: "suspended",
      step,
      metadata,
    });
  }
}
