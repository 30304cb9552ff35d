/** The verdict types of `stem observe why` (why.ts), shared by its rule modules. */

/** What holds a task (or that nothing does any more). */
export type WhyCause =
  | "finished"
  | "dead-lettered"
  | "revoked"
  | "expired"
  | "waiting-on-members"
  | "running"
  | "worker-lost"
  | "not-due"
  | "rate-limited"
  | "queue-paused"
  | "unique-lock"
  | "concurrency-limit"
  | "no-worker"
  | "queued";

/** One rule's verdict. */
export interface WhyExplanation {
  cause: WhyCause;
  /** A sentence or two: what holds the task, with the key fact (a time, a queue, a worker). */
  summary: string;
  /** What to do about it, when something can be done (often an exact command). */
  fix?: string;
  /** The facts the summary rests on, for scripts. */
  evidence: Record<string, unknown>;
}
