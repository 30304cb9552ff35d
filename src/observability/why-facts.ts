/**
 * What `stem observe why` reads about a task before it judges: its status and timeline,
 * its dead letter, its revocation, its queue's pause, the live workers' heartbeats.
 * Read once, then every rule in why-rules.ts looks at the same snapshot.
 */
import type {
  Broker,
  ConcurrencySlots,
  DeadLetter,
  LockStore,
  ResultBackend,
  RevokeEntry,
  RevokeStore,
  SlotUsage,
  WorkerHeartbeat,
} from "../adapters/contracts.ts";
import type { CanvasHandle } from "../canvas/handle.ts";
import { formatDuration } from "../core/duration.ts";
import { StemError } from "../core/errors.ts";
import type { TaskStatus } from "../core/states.ts";
import type { TimelineEntry, TimelineEvent } from "../core/timeline.ts";
import { queueSlotsKey, taskSlotsKey } from "../worker/concurrency-gate.ts";
import { PAUSE_NAMESPACE, REVOKE_NAMESPACE } from "../worker/revocations.ts";

/** The stores `explainTask` reads (a StemClient has them all). */
export interface WhySources {
  broker: Broker;
  backend: ResultBackend;
  revokeStore: RevokeStore;
  lockStore: LockStore;
  concurrencySlots: ConcurrencySlots;
  canvas: { handle(id: string): Pick<CanvasHandle, "unsettled"> };
}

/** One snapshot of everything that decides whether a task runs. */
export interface WhyFacts {
  id: string;
  now: number;
  status: TaskStatus | null;
  timeline: TimelineEntry[];
  deadLetter: DeadLetter | null;
  /** A live revocation of the task in the revoke store. */
  revocation?: RevokeEntry;
  /** The live pause of the task's queue. */
  pause?: RevokeEntry;
  /** Every heartbeat kept (alive and lost). */
  heartbeats: WorkerHeartbeat[];
  /** The global concurrency limits of its task name and of its queue, where set. */
  slots: SlotUsage[];
  sources: WhySources;
}

/** Whether an entry is still in force (no expiry, or one in the future). */
const live = (entry: RevokeEntry, now: number) =>
  entry.expiresAt === undefined || entry.expiresAt > now;

/** Reads the snapshot; StemError("not_found") when neither a status nor a dead letter exists. */
export async function readFacts(sources: WhySources, id: string, now: number): Promise<WhyFacts> {
  const [status, deadLetter, revokes, heartbeats] = await Promise.all([
    sources.backend.get(id),
    sources.broker.getDeadLetter(id),
    sources.revokeStore.list(REVOKE_NAMESPACE),
    sources.backend.listHeartbeats(),
  ]);
  if (!status && !deadLetter)
    throw new StemError(
      "not_found",
      `no task with id ${id}: no status (unknown, expired, or enqueued with ignoreResult) and no dead letter`,
    );
  const queue = status?.queue ?? deadLetter?.queue;
  const name = status?.name ?? deadLetter?.envelope.name;
  const [pauses, slots] = await Promise.all([
    queue ? sources.revokeStore.list(PAUSE_NAMESPACE) : [],
    Promise.all([
      name === undefined ? null : sources.concurrencySlots.usage(taskSlotsKey(name)),
      queue === undefined ? null : sources.concurrencySlots.usage(queueSlotsKey(queue)),
    ]),
  ]);
  return {
    id,
    now,
    status,
    timeline: status?.timeline ?? [],
    deadLetter,
    revocation: revokes.find((e) => e.taskId === id && live(e, now)),
    pause: pauses.find((e) => e.taskId === queue && live(e, now)),
    heartbeats,
    slots: slots.filter((usage) => usage !== null),
    sources,
  };
}

/** The latest timeline entry of one of `events`, if any. */
export function lastEntry(facts: WhyFacts, ...events: TimelineEvent[]): TimelineEntry | undefined {
  return facts.timeline.findLast((e) => events.includes(e.event));
}

/** `2026-03-08T07:00:00.000Z`. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** A span of time as people say it, to the second: `4m12s`, `under a second`. */
export function span(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 1 ? "under a second" : formatDuration(seconds * 1000);
}

/** `at T, in 4m12s` or `at T, 3s ago`. */
export function when(at: number, now: number): string {
  return at >= now ? `${iso(at)}, in ${span(at - now)}` : `${iso(at)}, ${span(now - at)} ago`;
}
