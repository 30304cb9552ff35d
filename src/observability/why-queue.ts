/**
 * The queue side of `stem observe why`, for a task that is due and not held by anything:
 * who consumes its queue, how much is ahead of it, how fast the queue drains.
 */
import type { WorkerHeartbeat } from "../adapters/contracts.ts";
import { isLost } from "../worker/liveness.ts";
import { type WhyFacts, span } from "./why-facts.ts";
import type { WhyExplanation } from "./why-types.ts";

/** Live workers (heartbeat not lost), sorted by id. */
export function liveWorkers(facts: WhyFacts): WorkerHeartbeat[] {
  return facts.heartbeats
    .filter((b) => !isLost(b, facts.now))
    .sort((a, b) => a.workerId.localeCompare(b.workerId));
}

/**
 * Tasks the workers finish per minute, on average since each started (from their
 * heartbeats' counters: cheap on every backend, but across all of a worker's queues).
 */
function drainPerMinute(workers: WorkerHeartbeat[]): number {
  return workers.reduce((sum, b) => {
    const minutes = (b.timestamp - b.startedAt) / 60_000;
    return minutes > 0 ? sum + b.processed / minutes : sum;
  }, 0);
}

/** No live worker reads the task's queue. */
export function noWorker(facts: WhyFacts, queue: string): WhyExplanation | null {
  const live = liveWorkers(facts);
  if (live.some((b) => b.queues.includes(queue))) return null;
  const workers = live.map((b) => ({ workerId: b.workerId, queues: b.queues }));
  const listed = workers.map((w) => `${w.workerId} (${w.queues.join(", ")})`).join("; ");
  return {
    cause: "no-worker",
    summary:
      `No live worker consumes queue ${queue}. ` +
      (live.length === 0
        ? "No worker is alive at all (no fresh heartbeat)."
        : `Live workers and their queues: ${listed}.`),
    fix: `start a worker on the queue: stem worker --tasks ./tasks.ts --queue ${queue}`,
    evidence: { queue, liveWorkers: workers },
  };
}

/** The task waits its turn: how many are ready on its queue, the drain rate, an estimate. */
export async function queuedBehind(facts: WhyFacts, queue: string): Promise<WhyExplanation> {
  const [stats] = await facts.sources.broker.stats([queue]);
  const ready = stats?.pending ?? 0;
  const consumers = liveWorkers(facts).filter((b) => b.queues.includes(queue));
  const perMinute = drainPerMinute(consumers);
  const slots = consumers.reduce((n, b) => n + b.concurrency, 0);
  const busy = consumers.reduce((n, b) => n + b.inflight, 0);
  const ahead = Math.max(0, ready - 1);
  const estimateMs = perMinute > 0 ? (ahead / perMinute) * 60_000 : undefined;
  const rate =
    perMinute > 0
      ? `its consumers finish about ${round(perMinute)} tasks a minute (on average since they started), so it should start in about ${span(estimateMs ?? 0)}`
      : "its consumers have finished no task yet, so no start can be estimated";
  const workers = `${consumers.length} live worker(s) consume it with ${busy} of ${slots} slot(s) busy`;
  // The status says queued, yet the broker has nothing ready on the queue.
  const nothingReady =
    `Queued on ${queue}, but no task is ready there now (${stats?.delayed ?? 0} delayed, ${stats?.inflight ?? 0} in flight): ` +
    "it is delayed or being delivered, or its message was never published (a producer that failed between storing its status and publishing)";
  return {
    cause: "queued",
    summary:
      ready === 0
        ? `${nothingReady}; ${workers}.`
        : `Queued on ${queue}, waiting its turn: ${ready} task(s) are ready on the queue (this one included, in priority then arrival order); ${workers}; ${rate}.`,
    fix:
      busy >= slots
        ? `add workers or concurrency on ${queue}: stem worker --tasks ./tasks.ts --queue ${queue} --concurrency N`
        : undefined,
    evidence: {
      queue,
      ready,
      inflight: stats?.inflight ?? 0,
      delayed: stats?.delayed ?? 0,
      drainPerMinute: round(perMinute),
      estimatedStartAt: estimateMs === undefined ? null : facts.now + Math.round(estimateMs),
      consumers: consumers.map((b) => ({
        workerId: b.workerId,
        concurrency: b.concurrency,
        inflight: b.inflight,
      })),
    },
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
