/**
 * Revocations on Redis: one hash per namespace (task id → entry JSON), versions compared
 * in Lua, and sorted sets per namespace indexing the entries by version and by expiry.
 */

import type { RevokeEntry, RevokeStore } from "../contracts.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { pruneRevokesScript } from "./lua/prune-revokes-3.ts";
import { upsertRevokesScript } from "./lua/upsert-revokes-3.ts";
import { execPipeline, type LuaScript, queueScript, runScript } from "./scripts.ts";

/** Every script the revoke store runs. */
export const REVOKE_SCRIPTS: readonly LuaScript[] = [upsertRevokesScript, pruneRevokesScript];

export class RedisRevokeStore implements RevokeStore {
  /** `client` must have REVOKE_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async upsertAll(entries: RevokeEntry[]): Promise<RevokeEntry[]> {
    if (entries.length === 0) return [];
    const byNamespace = new Map<string, number[]>();
    entries.forEach((entry, i) => {
      const list = byNamespace.get(entry.namespace);
      if (list) list.push(i);
      else byNamespace.set(entry.namespace, [i]);
    });
    const pipeline = this.client.pipeline();
    for (const [namespace, indexes] of byNamespace) {
      queueScript(
        pipeline,
        upsertRevokesScript,
        this.scriptKeys(namespace),
        indexes.flatMap((i) => [entries[i].taskId, entries[i].version, JSON.stringify(entries[i])]),
      );
    }
    const replies = (await execPipeline(pipeline)) as string[][];
    const out = new Array<RevokeEntry>(entries.length);
    [...byNamespace.values()].forEach((indexes, n) => {
      indexes.forEach((i, j) => {
        out[i] = JSON.parse(replies[n][j]) as RevokeEntry;
      });
    });
    return out;
  }

  async list(namespace: string, afterVersion?: number): Promise<RevokeEntry[]> {
    const key = this.keys.revokes(namespace);
    let texts: (string | null)[];
    if (afterVersion === undefined) texts = await this.client.hvals(key);
    else {
      const ids = await this.client.zrangebyscore(
        this.keys.revokeVersions(namespace),
        `(${afterVersion}`,
        "+inf",
      );
      // An id pruned between the two reads has no entry any more (null): skipped.
      texts = ids.length === 0 ? [] : await this.client.hmget(key, ...ids);
    }
    return texts
      .filter((t): t is string => t !== null)
      .map((t) => JSON.parse(t) as RevokeEntry)
      .sort((a, b) => a.version - b.version || (a.taskId < b.taskId ? -1 : 1));
  }

  async pruneExpired(namespace: string, now: number): Promise<number> {
    return runScript<number>(this.client, pruneRevokesScript, this.scriptKeys(namespace), [now]);
  }

  /** The keys the revoke scripts take: the entries and their version and expiry indexes. */
  private scriptKeys(namespace: string): string[] {
    return [
      this.keys.revokes(namespace),
      this.keys.revokeVersions(namespace),
      this.keys.revokeExpiries(namespace),
    ];
  }

  /** Nothing of its own to release; the connection owns the client. */
  async close(): Promise<void> {}
}
