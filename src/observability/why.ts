/**
 * `stem observe why ID`: looks at everything that decides whether a task runs — its
 * status and timeline, the dead letters, revocations, queue pauses, the live workers'
 * heartbeats, its queue's depth and drain rate, its canvas members, its uniqueness lock,
 * the global concurrency limits of its task and queue — and says in a sentence or two what
 * holds it, with the evidence and the fix.
 */
import type { TaskState } from "../core/states.ts";
import { type WhySources, readFacts } from "./why-facts.ts";
import { RULES } from "./why-rules.ts";
import type { WhyExplanation } from "./why-types.ts";

export type { WhySources } from "./why-facts.ts";
export type { WhyCause, WhyExplanation } from "./why-types.ts";

/** The answer `explainTask` gives. */
export interface WhyReport extends WhyExplanation {
  taskId: string;
  /** The task's stored state; null when only its dead letter is left. */
  state: TaskState | null;
  name: string | null;
  queue: string | null;
  /** When the facts were read (epoch ms). */
  checkedAt: number;
}

/**
 * Explains what holds task `id`. Throws StemError("not_found") when the stores know
 * nothing of it (no status and no dead letter).
 */
export async function explainTask(
  sources: WhySources,
  id: string,
  now = Date.now(),
): Promise<WhyReport> {
  const facts = await readFacts(sources, id, now);
  for (const rule of RULES) {
    const found = await rule(facts);
    if (!found) continue;
    const status = facts.status;
    return {
      taskId: id,
      state: status?.state ?? null,
      name: status?.name ?? facts.deadLetter?.envelope.name ?? null,
      queue: status?.queue ?? facts.deadLetter?.queue ?? null,
      checkedAt: now,
      ...found,
    };
  }
  // queuedBehind always answers; this is unreachable unless RULES loses it.
  throw new Error(`no rule explained task ${id}`);
}
