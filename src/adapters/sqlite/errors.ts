/**
 * Turns SQLite failures into StemErrors a user can act on: one line, naming the database
 * file, with a code the CLI maps to an exit status. Programming errors pass through.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import { SQLiteError } from "bun:sqlite";
import { StemError } from "../../core/errors.ts";

/** What the user called the database in messages: its absolute path, or `:memory:`. */
export type DatabaseLocation = string;

/** The StemError for `error` raised while using the database at `location`. */
export function toStoreError(location: DatabaseLocation, error: unknown): unknown {
  if (error instanceof StemError) return error;
  if (error instanceof SQLiteError) return fromSqliteError(location, error);
  if (error instanceof Error && /database has closed/i.test(error.message)) {
    return new StemError("closed", `SQLite database ${location} is closed`, { cause: error });
  }
  return error;
}

function fromSqliteError(location: DatabaseLocation, error: SQLiteError): StemError {
  const code = error.code ?? "";
  const detail = error.message.split("\n", 1)[0];
  const options = { cause: error };
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new StemError(
      "store_corrupt",
      `SQLite database ${location} is damaged or not a database (${detail}); restore it from a backup or move it aside`,
      options,
    );
  }
  if (code.startsWith("SQLITE_CANTOPEN")) {
    return new StemError(
      "store_unavailable",
      `cannot open SQLite database ${location}: ${whyCannotOpen(location)}`,
      options,
    );
  }
  if (
    code.startsWith("SQLITE_READONLY") ||
    code.startsWith("SQLITE_PERM") ||
    code.startsWith("SQLITE_AUTH")
  ) {
    return new StemError(
      "store_unavailable",
      `SQLite database ${location} cannot be written (${detail}): check the permissions of the file and its folder`,
      options,
    );
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StemError(
      "store_unavailable",
      `SQLite database ${location} stayed locked by another connection (${detail})`,
      options,
    );
  }
  if (code.startsWith("SQLITE_FULL")) {
    return new StemError(
      "store_unavailable",
      `SQLite database ${location}: the disk is full (${detail})`,
      options,
    );
  }
  return new StemError(
    "store_unavailable",
    `SQLite database ${location}: ${detail} (${code || `errno ${error.errno}`})`,
    options,
  );
}

/** The likely reason SQLite could not open (or create) the file at `path`. */
function whyCannotOpen(path: string): string {
  if (path === ":memory:") return "unable to open an in-memory database";
  if (existsSync(path)) {
    return canAccess(path, constants.R_OK | constants.W_OK)
      ? "unable to open the database file"
      : "permission denied (the file must be readable and writable by this user)";
  }
  const folder = dirname(path);
  return canAccess(folder, constants.W_OK | constants.X_OK)
    ? "unable to create the database file"
    : `permission denied (the folder ${folder} must be writable to create the database)`;
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
