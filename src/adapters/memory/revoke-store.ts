import type { RevokeEntry, RevokeStore } from "../contracts.ts";

/** Revocations in process memory. */
export class MemoryRevokeStore implements RevokeStore {
  private readonly entries = new Map<string, RevokeEntry>();

  async upsertAll(entries: RevokeEntry[]): Promise<RevokeEntry[]> {
    return entries.map((entry) => {
      const key = `${entry.namespace}\u0000${entry.taskId}`;
      const stored = this.entries.get(key);
      if (stored && stored.version >= entry.version) return { ...stored };
      this.entries.set(key, { ...entry });
      return { ...entry };
    });
  }

  async list(namespace: string, afterVersion = Number.NEGATIVE_INFINITY): Promise<RevokeEntry[]> {
    return [...this.entries.values()]
      .filter((e) => e.namespace === namespace && e.version > afterVersion)
      .sort((a, b) => a.version - b.version)
      .map((e) => ({ ...e }));
  }

  async pruneExpired(namespace: string, now: number): Promise<number> {
    let removed = 0;
    for (const [key, e] of this.entries) {
      if (e.namespace === namespace && e.expiresAt !== undefined && e.expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}
