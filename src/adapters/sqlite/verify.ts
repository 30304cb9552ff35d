/**
 * The deep check behind `stem health` on SQLite: `PRAGMA quick_check` reads every page
 * (finding damaged pages, bad indexes, malformed records) and the schema must be the one
 * this build writes.
 */
import { StemError } from "../../core/errors.ts";
import type { SqliteDatabase } from "./database.ts";
import { currentVersion, SCHEMA_VERSION } from "./migrations.ts";

/** Problems quick_check reports are shown up to this many. */
const SHOWN_PROBLEMS = 3;

/** Throws StemError("store_corrupt") naming the first problems; returns the schema version. */
export function verifyDatabase(db: SqliteDatabase): { schemaVersion: number } {
  const rows = db.read(() => db.statement<{ quick_check: string }>("PRAGMA quick_check").all());
  const problems = rows
    .flatMap((r) => r.quick_check.split("\n"))
    .filter((line) => line !== "ok" && !line.startsWith("*** in database"));
  if (problems.length > 0) {
    const more =
      problems.length > SHOWN_PROBLEMS ? ` (and ${problems.length - SHOWN_PROBLEMS} more)` : "";
    throw new StemError(
      "store_corrupt",
      `SQLite database ${db.location} is damaged: ${problems.slice(0, SHOWN_PROBLEMS).join("; ")}${more}`,
    );
  }
  const version = db.read(() => currentVersion(db));
  if (version !== SCHEMA_VERSION)
    throw new StemError(
      "store_corrupt",
      `SQLite database ${db.location} has schema version ${version}, expected ${SCHEMA_VERSION}`,
    );
  return { schemaVersion: version };
}
