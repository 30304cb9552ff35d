import type { RevokeEntry, RevokeStore } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";

/** Namespace for task revocations in the revoke store. */
export const REVOKE_NAMESPACE = "stem";
/** Namespace for persisted queue pauses (taskId = queue name). */
export const PAUSE_NAMESPACE = "stem.queue-pause";

/** A worker's view of the revoke store, refreshed periodically and on control messages. */
export class Revocations {
  private byTask = new Map<string, RevokeEntry>();

  constructor(
    private readonly store: RevokeStore | undefined,
    private readonly clock: Clock,
  ) {}

  async refresh(): Promise<void> {
    if (!this.store) return;
    const entries = await this.store.list(REVOKE_NAMESPACE);
    this.byTask = new Map(entries.map((e) => [e.taskId, e]));
  }

  /** Records entries received over the control channel before the next refresh. */
  add(entries: RevokeEntry[]): void {
    for (const e of entries) {
      const known = this.byTask.get(e.taskId);
      if (!known || known.version < e.version) this.byTask.set(e.taskId, e);
    }
  }

  /** The live revocation of a task, if any. */
  get(taskId: string): RevokeEntry | undefined {
    const e = this.byTask.get(taskId);
    if (!e || (e.expiresAt !== undefined && e.expiresAt <= this.clock.now())) return undefined;
    return e;
  }
}

/** Queues currently paused in the store (entries without an expiry in the past). */
export async function loadPausedQueues(
  store: RevokeStore | undefined,
  now: number,
): Promise<Set<string>> {
  if (!store) return new Set();
  const entries = await store.list(PAUSE_NAMESPACE);
  return new Set(
    entries.filter((e) => e.expiresAt === undefined || e.expiresAt > now).map((e) => e.taskId),
  );
}

/** Persists a pause (or a resume, as an already-expired entry) so new workers honour it. */
export async function persistPause(
  store: RevokeStore,
  queues: string[],
  paused: boolean,
  now: number,
  requestedBy?: string,
): Promise<void> {
  await store.upsertAll(
    queues.map((queue) => ({
      namespace: PAUSE_NAMESPACE,
      taskId: queue,
      version: now * 1000 + Math.floor(Math.random() * 1000),
      issuedAt: now,
      terminate: false,
      requestedBy,
      expiresAt: paused ? undefined : now,
    })),
  );
}
