import type { RevokeEntry, RevokeStore } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";

/** Namespace for task revocations in the revoke store. */
export const REVOKE_NAMESPACE = "stem";
/** Namespace for persisted queue pauses (taskId = queue name). */
export const PAUSE_NAMESPACE = "stem.queue-pause";

/**
 * How far below the newest version read so far an incremental reload starts. Versions
 * are issue times (ms × 1000, see revoke-entries.ts) from the writers' clocks: the overlap
 * catches an entry written after that newest one by a writer whose clock lags (or whose
 * write committed late) by up to a minute. Re-reading the last minute's entries is cheap.
 */
export const RELOAD_OVERLAP_VERSIONS = 60_000 * 1000;

/** A worker's view of the revoke store, refreshed periodically and on control messages. */
export class Revocations {
  private readonly byTask = new Map<string, RevokeEntry>();
  /** The highest version read from the store; undefined until an entry has been read. */
  private newestStored: number | undefined;

  constructor(
    private readonly store: RevokeStore | undefined,
    private readonly clock: Clock,
  ) {}

  /**
   * Reads what changed in the store since the last refresh (everything, the first time)
   * and forgets entries that have expired, so neither the reload nor the map grows with
   * the store's history.
   */
  async refresh(): Promise<void> {
    if (!this.store) return;
    const after =
      this.newestStored === undefined ? undefined : this.newestStored - RELOAD_OVERLAP_VERSIONS;
    const entries = await this.store.list(REVOKE_NAMESPACE, after);
    this.add(entries);
    for (const e of entries)
      this.newestStored = Math.max(this.newestStored ?? e.version, e.version);
    const now = this.clock.now();
    for (const [taskId, e] of this.byTask) {
      if (e.expiresAt !== undefined && e.expiresAt <= now) this.byTask.delete(taskId);
    }
  }

  /** How many revocations this worker holds (expired ones are dropped at each refresh). */
  get size(): number {
    return this.byTask.size;
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
