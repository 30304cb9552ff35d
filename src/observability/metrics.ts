/**
 * Stem's metrics, recorded with the global meter provider from Stem's signals (so they
 * cost nothing until telemetry starts) and from the workers running in this process:
 *
 * | name | kind | attributes |
 * |---|---|---|
 * | stem.tasks.started, .succeeded, .failed, .retried | counter | stem.task.name, stem.queue |
 * | stem.tasks.dead_lettered | counter | stem.task.name, stem.queue, stem.reason |
 * | stem.task.duration | histogram (ms) | stem.task.name, stem.queue, stem.task.outcome |
 * | stem.queue.depth | gauge (tasks ready) | stem.queue |
 * | stem.worker.inflight | gauge | stem.worker.id |
 * | stem.schedule.drift | histogram (ms) | stem.schedule.id, stem.task.name |
 * | stem.workflow.runs | counter | stem.workflow.event, stem.workflow.name |
 */
import { type Attributes, type Meter, metrics } from "@opentelemetry/api";
import { logger } from "../core/logger.ts";
import type { Envelope } from "../core/envelope.ts";
import { Signal, signals } from "../core/signals.ts";
import { liveWorkers } from "./instrumentation.ts";

/** Metric names. */
export const MetricNames = {
  started: "stem.tasks.started",
  succeeded: "stem.tasks.succeeded",
  failed: "stem.tasks.failed",
  retried: "stem.tasks.retried",
  deadLettered: "stem.tasks.dead_lettered",
  duration: "stem.task.duration",
  queueDepth: "stem.queue.depth",
  inflight: "stem.worker.inflight",
  scheduleDrift: "stem.schedule.drift",
  workflowRuns: "stem.workflow.runs",
} as const;

function taskAttributes(envelope: Envelope): Attributes {
  return { "stem.task.name": envelope.name, "stem.queue": envelope.queue };
}

/**
 * Creates the instruments and subscribes to the signals that feed them. Returns a
 * function that unsubscribes.
 */
export function recordStemMetrics(
  source: Record<string, unknown> = signals,
  meter: Meter = metrics.getMeter("stem"),
): () => void {
  const s = source as typeof signals;
  const started = meter.createCounter(MetricNames.started, {
    description: "Task executions started",
  });
  const succeeded = meter.createCounter(MetricNames.succeeded, {
    description: "Task executions that succeeded",
  });
  const failed = meter.createCounter(MetricNames.failed, {
    description: "Tasks that failed for good (retries exhausted)",
  });
  const retried = meter.createCounter(MetricNames.retried, {
    description: "Retries scheduled after a failed attempt",
  });
  const deadLettered = meter.createCounter(MetricNames.deadLettered, {
    description: "Tasks moved to the dead-letter queue, by reason",
  });
  const duration = meter.createHistogram(MetricNames.duration, {
    description: "Task execution time",
    unit: "ms",
  });
  const drift = meter.createHistogram(MetricNames.scheduleDrift, {
    description: "Delay between a schedule entry's due time and its dispatch",
    unit: "ms",
  });
  const depth = meter.createObservableGauge(MetricNames.queueDepth, {
    description: "Tasks ready for delivery in the queues this process's workers consume",
  });
  const inflight = meter.createObservableGauge(MetricNames.inflight, {
    description: "Tasks running on a worker",
  });

  depth.addCallback(async (result) => {
    const depths = new Map<string, number>();
    await Promise.all(
      liveWorkers().map(async (worker) => {
        try {
          for (const stats of await worker.queueStats()) depths.set(stats.queue, stats.pending);
        } catch (error) {
          logger.debug(
            `metrics: queue depth of worker ${worker.id} unavailable: ${(error as Error).message}`,
          );
        }
      }),
    );
    for (const [queue, pending] of depths) result.observe(pending, { "stem.queue": queue });
  });
  inflight.addCallback((result) => {
    for (const worker of liveWorkers())
      result.observe(worker.inflight(), { "stem.worker.id": worker.id });
  });

  const off = [
    s.taskPrerun.connect(({ envelope }) => started.add(1, taskAttributes(envelope))),
    s.taskSucceeded.connect(({ envelope }) => succeeded.add(1, taskAttributes(envelope))),
    s.taskRetry.connect(({ envelope }) => retried.add(1, taskAttributes(envelope))),
    s.taskFailed.connect(({ envelope, deadLettered: dead }) => {
      failed.add(1, taskAttributes(envelope));
      if (dead)
        deadLettered.add(1, {
          ...taskAttributes(envelope),
          "stem.reason": "max-retries-exhausted",
        });
    }),
    s.taskDeadLettered.connect(({ envelope, reason }) =>
      deadLettered.add(1, { ...taskAttributes(envelope), "stem.reason": reason }),
    ),
    s.taskPostrun.connect(({ envelope, state, durationMs }) =>
      duration.record(durationMs, { ...taskAttributes(envelope), "stem.task.outcome": state }),
    ),
    s.scheduleEntryDispatched.connect(({ entryId, taskName, driftMs }) =>
      drift.record(driftMs, { "stem.schedule.id": entryId, "stem.task.name": taskName }),
    ),
    ...recordWorkflowRuns(source, meter),
  ];
  return () => {
    for (const disconnect of off) disconnect();
  };
}

/**
 * Counts workflow runs from every `workflowRun<Event>` signal the source has (started,
 * completed, failed, …), whatever their payload; a source without them records nothing.
 */
export function recordWorkflowRuns(source: Record<string, unknown>, meter: Meter): (() => void)[] {
  const runs = meter.createCounter(MetricNames.workflowRuns, {
    description: "Workflow run transitions, by event",
  });
  const off: (() => void)[] = [];
  for (const [key, signal] of Object.entries(source)) {
    const match = /^workflowRun([A-Z]\w*)$/.exec(key);
    if (!match || !(signal instanceof Signal)) continue;
    const event = match[1].toLowerCase();
    off.push(
      signal.connect((payload: unknown) => {
        const attributes: Attributes = { "stem.workflow.event": event };
        const name = workflowName(payload);
        if (name) attributes["stem.workflow.name"] = name;
        runs.add(1, attributes);
      }),
    );
  }
  return off;
}

function workflowName(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  for (const key of ["workflow", "workflowName", "name"])
    if (typeof p[key] === "string") return p[key] as string;
  const run = p.run as Record<string, unknown> | undefined;
  if (typeof run?.workflow === "string") return run.workflow;
  if (typeof run?.name === "string") return run.name;
  return undefined;
}
