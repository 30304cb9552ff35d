/**
 * Spans for enqueues and task runs, linked across processes by a W3C `traceparent`
 * header in the envelope: `stem.enqueue` (producer) is the parent of
 * `stem.execute <task>` (worker), which is the parent of every task the handler enqueues
 * (ctx.enqueue) or that follows it (chains, chord callbacks).
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  context,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { attemptNumber, type Envelope, MetaKeys } from "../core/envelope.ts";
import { signals } from "../core/signals.ts";
import type { TaskError } from "../core/states.ts";
import type { Instrumentation } from "./instrumentation.ts";

/** Span attribute names. */
export const SpanAttributes = {
  taskName: "stem.task.name",
  taskId: "stem.task.id",
  queue: "stem.queue",
  attempt: "stem.task.attempt",
  maxRetries: "stem.task.max_retries",
  priority: "stem.task.priority",
  outcome: "stem.task.outcome",
  parentTaskId: "stem.parent_task_id",
  rootTaskId: "stem.root_task_id",
  workerId: "stem.worker.id",
} as const;

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const getter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

function taskAttributes(envelope: Envelope): Attributes {
  const attributes: Attributes = {
    [SpanAttributes.taskName]: envelope.name,
    [SpanAttributes.taskId]: envelope.id,
    [SpanAttributes.queue]: envelope.queue,
    [SpanAttributes.attempt]: attemptNumber(envelope),
    [SpanAttributes.maxRetries]: envelope.maxRetries,
    [SpanAttributes.priority]: envelope.priority,
    "messaging.system": "stem",
    "messaging.destination.name": envelope.queue,
    "messaging.message.id": envelope.id,
  };
  const parent = envelope.meta[MetaKeys.parentTaskId];
  const root = envelope.meta[MetaKeys.rootTaskId];
  if (typeof parent === "string") attributes[SpanAttributes.parentTaskId] = parent;
  if (typeof root === "string") attributes[SpanAttributes.rootTaskId] = root;
  return attributes;
}

/** The instrumentation that records spans with the global tracer provider. */
export class TracingInstrumentation
  implements Pick<Instrumentation, "enqueue" | "execute" | "bind">
{
  private readonly tracer;
  private readonly propagator = new W3CTraceContextPropagator();
  /** Execution spans of running tasks, so task signals can annotate them. */
  private readonly running = new Map<Envelope, Span>();
  private readonly disconnect: (() => void)[] = [];

  constructor(version?: string) {
    this.tracer = trace.getTracer("stem", version);
    const noteError = (envelope: Envelope, error: TaskError, event: string) => {
      const span = this.running.get(envelope);
      if (!span) return;
      span.addEvent(event, { "exception.type": error.type, "exception.message": error.message });
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    };
    this.disconnect.push(
      signals.taskRetry.connect(({ envelope, error }) =>
        noteError(envelope, error, "retry scheduled"),
      ),
      signals.taskFailed.connect(({ envelope, error }) => noteError(envelope, error, "exception")),
    );
  }

  enqueue(envelope: Envelope): (error?: unknown) => void {
    const parent = context.active();
    const span = this.tracer.startSpan(
      "stem.enqueue",
      {
        kind: SpanKind.PRODUCER,
        attributes: { ...taskAttributes(envelope), "messaging.operation.type": "send" },
      },
      parent,
    );
    this.propagator.inject(trace.setSpan(parent, span), envelope.headers, setter);
    return (error) => {
      if (error !== undefined) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: (error as Error)?.message ?? String(error),
        });
      }
      span.end();
    };
  }

  async execute<T extends string>(
    envelope: Envelope,
    workerId: string,
    run: () => Promise<T>,
  ): Promise<T> {
    const parent: Context = this.propagator.extract(ROOT_CONTEXT, envelope.headers ?? {}, getter);
    const span = this.tracer.startSpan(
      `stem.execute ${envelope.name}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...taskAttributes(envelope),
          [SpanAttributes.workerId]: workerId,
          "messaging.operation.type": "process",
        },
      },
      parent,
    );
    this.running.set(envelope, span);
    try {
      const outcome = await context.with(trace.setSpan(parent, span), run);
      span.setAttribute(SpanAttributes.outcome, outcome);
      // failed and retrying get their error status from the task signals; revoked and
      // shutdown (handed back to the broker) stay unset.
      if (outcome === "succeeded") span.setStatus({ code: SpanStatusCode.OK });
      else if (outcome === "lost")
        span.setStatus({ code: SpanStatusCode.ERROR, message: "the worker lost the task's lease" });
      return outcome;
    } catch (error) {
      span.setAttribute(SpanAttributes.outcome, "error");
      span.recordException(error as Error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: (error as Error)?.message ?? String(error),
      });
      throw error;
    } finally {
      this.running.delete(envelope);
      span.end();
    }
  }

  bind<F extends (...args: never[]) => unknown>(fn: F): F {
    return context.bind(context.active(), fn);
  }

  /** Stops listening to task signals. */
  close(): void {
    for (const off of this.disconnect.splice(0)) off();
    this.running.clear();
  }
}
