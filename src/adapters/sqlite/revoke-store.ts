/** Revocations in a SQLite file: one row per (namespace, task), higher versions win. */
import type { RevokeEntry, RevokeStore } from "../contracts.ts";
import type { SqliteDatabase } from "./database.ts";

const UPSERT_NEWER = `
INSERT INTO stem_revokes (namespace, task_id, version, entry, expires_at)
VALUES ($namespace, $taskId, $version, $entry, $expiresAt)
ON CONFLICT (namespace, task_id) DO UPDATE SET
  version = excluded.version, entry = excluded.entry, expires_at = excluded.expires_at
WHERE excluded.version > stem_revokes.version`;

const SELECT_ONE = "SELECT entry FROM stem_revokes WHERE namespace = ? AND task_id = ?";

const LIST = `
SELECT entry FROM stem_revokes WHERE namespace = ? AND version > ?
ORDER BY version ASC, task_id ASC`;

const PRUNE = `
DELETE FROM stem_revokes
WHERE namespace = ? AND expires_at IS NOT NULL AND expires_at <= ?`;

type UpsertParams = [
  { namespace: string; taskId: string; version: number; entry: string; expiresAt: number | null },
];

const parse = (row: { entry: string }) => JSON.parse(row.entry) as RevokeEntry;

/** Versioned revocations shared by every process using the file. */
export class SqliteRevokeStore implements RevokeStore {
  constructor(private readonly db: SqliteDatabase) {}

  async upsertAll(entries: RevokeEntry[]): Promise<RevokeEntry[]> {
    if (entries.length === 0) return [];
    const upsert = this.db.statement<unknown, UpsertParams>(UPSERT_NEWER);
    const select = this.db.statement<{ entry: string }, [string, string]>(SELECT_ONE);
    return this.db.write(() =>
      entries.map((entry) => {
        upsert.run({
          namespace: entry.namespace,
          taskId: entry.taskId,
          version: entry.version,
          entry: JSON.stringify(entry),
          expiresAt: entry.expiresAt ?? null,
        });
        return parse(select.get(entry.namespace, entry.taskId)!);
      }),
    );
  }

  async list(namespace: string, afterVersion?: number): Promise<RevokeEntry[]> {
    const list = this.db.statement<{ entry: string }, [string, number]>(LIST);
    const after = afterVersion ?? Number.NEGATIVE_INFINITY;
    return this.db.single(() => list.all(namespace, after)).map(parse);
  }

  async pruneExpired(namespace: string, now: number): Promise<number> {
    const prune = this.db.statement<unknown, [string, number]>(PRUNE);
    return this.db.single(() => prune.run(namespace, now).changes, true);
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}
