/**
 * The queue side of `stem observe why`, for a task that is due and not held by anything:
 * who consumes its queue, how much is ahead of it, how fast the queue drains.
 */
import type { WorkerHeartbeat } from "../adapters/contracts.ts";
import { isLost } from "../worker/liveness.ts";
import { type WhyFacts, span } from "./why-facts.ts";
import type { WhyExplanation } from "./why-types.ts";

/** The window finished tasks are counted over for the drain rate. */
const DRAIN_WINDOW_MS = 5 * 60_000;
/** Finished statuses read per state to measure the drain rate. */
const DRAIN_SAMPLE = 500;

/** Live workers (heartbeat not lost), sorted by id. */
export function liveWorkers(facts: WhyFacts): WorkerHeartbeat[] {
  return facts.heartbeats
    .filter((b) => !isLost(b, facts.now))
    .sort((a, b) => a.workerId.localeCompare(b.workerId));
}

/** Tasks of `queue` finished per minute over the last five minutes (from their statuses). */
async function drainPerMinute(facts: WhyFacts, queue: string): Promise<number> {
  const since = facts.now - DRAIN_WINDOW_MS;
  const lists = await Promise.all(
    (["succeeded", "failed"] as const).map((state) =>
      facts.sources.backend.list({ queue, state, limit: DRAIN_SAMPLE }),
    ),
  );
  const finished = lists.flat().filter((s) => (s.finishedAt ?? s.updatedAt) >= since).length;
  return finished / (DRAIN_WINDOW_MS / 60_000);
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
  const perMinute = await drainPerMinute(facts, queue);
  const consumers = liveWorkers(facts).filter((b) => b.queues.includes(queue));
  const slots = consumers.reduce((n, b) => n + b.concurrency, 0);
  const busy = consumers.reduce((n, b) => n + b.inflight, 0);
  const ahead = Math.max(0, ready - 1);
  const estimateMs = perMinute > 0 ? (ahead / perMinute) * 60_000 : undefined;
  const rate =
    perMinute > 0
      ? `the queue drains about ${round(perMinute)} tasks a minute, so it should start in about ${span(estimateMs ?? 0)}`
      : "no task of this queue finished in the last 5 minutes, so no start can be estimated";
  return {
    cause: "queued",
    summary:
      `Queued on ${queue}, waiting its turn: ${ready} task(s) are ready on the queue (this one included, in priority then arrival order); ` +
      `${consumers.length} live worker(s) consume it with ${busy} of ${slots} slot(s) busy; ${rate}.`,
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
