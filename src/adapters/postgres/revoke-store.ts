import type { RevokeEntry, RevokeStore } from "../contracts.ts";
import type { PgDatabase } from "./database.ts";
import { listRevokes, pruneRevokes, upsertRevokes } from "./sql/revokes.ts";

/** Revocations in one table; a lower version never replaces a higher one. */
export class PostgresRevokeStore implements RevokeStore {
  constructor(private readonly db: PgDatabase) {}

  upsertAll(entries: RevokeEntry[]): Promise<RevokeEntry[]> {
    return this.db.run("store revocations", (sql) => upsertRevokes(sql, this.db.schema, entries));
  }

  list(namespace: string, afterVersion?: number): Promise<RevokeEntry[]> {
    return this.db.run("list revocations", (sql) =>
      listRevokes(sql, this.db.schema, namespace, afterVersion),
    );
  }

  pruneExpired(namespace: string, now: number): Promise<number> {
    return this.db.run("prune revocations", (sql) =>
      pruneRevokes(sql, this.db.schema, namespace, now),
    );
  }

  async close(): Promise<void> {}
}
