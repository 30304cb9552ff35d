/**
 * One open SQLite database shared by every store of a connection: opening it with the
 * pragmas several processes need (WAL, busy timeout, synchronous=NORMAL), a cache of
 * prepared statements, and the three ways the stores touch it — a write transaction
 * (BEGIN IMMEDIATE), a read snapshot, and a single statement — each turning SQLite
 * failures into StemErrors that name the file.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { Database, SQLiteError, type SQLQueryBindings, type Statement } from "bun:sqlite";
import type { Clock } from "../../core/clock.ts";
import { StemError, StoreMissingError } from "../../core/errors.ts";
import { toStoreError } from "./errors.ts";

const HAS_STEM_TABLES =
  "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stem_migrations'";

/** Where a database lives: a resolved file path, or in this process's memory. */
export type DatabaseTarget = { kind: "file"; path: string } | { kind: "memory" };

export interface OpenDatabaseOptions {
  /** How long a statement waits for another process's write lock before failing. */
  busyTimeoutMs: number;
  clock: Clock;
  /** Refuse a missing file (StoreMissingError) instead of creating it and its folder. */
  existingOnly?: boolean;
}

/** A SQLite database handle with its statement cache and transaction helpers. */
export class SqliteDatabase {
  /** The path in messages, or `:memory:`. */
  readonly location: string;
  /** Runs after every committed write transaction; the connection hooks pruning in here. */
  afterWrite: (() => void) | undefined;
  private readonly statements = new Map<string, Statement>();
  private readonly transaction: ReturnType<Database["transaction"]>;
  private closed = false;

  constructor(
    private readonly handle: Database,
    readonly target: DatabaseTarget,
    readonly clock: Clock,
  ) {
    this.location = target.kind === "file" ? target.path : ":memory:";
    this.transaction = handle.transaction((work: () => unknown) => work());
  }

  /** The current time in epoch ms, from the connection's clock. */
  now(): number {
    return this.clock.now();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A prepared statement for `sql`, compiled on first use and reused after. */
  statement<Row = unknown, Params extends SQLQueryBindings[] = SQLQueryBindings[]>(
    sql: string,
  ): Statement<Row, Params> {
    this.ensureOpen();
    let prepared = this.statements.get(sql);
    if (!prepared) {
      try {
        prepared = this.handle.prepare(sql);
      } catch (error) {
        throw toStoreError(this.location, error);
      }
      this.statements.set(sql, prepared);
    }
    return prepared as unknown as Statement<Row, Params>;
  }

  /**
   * Runs `work` in one write transaction (BEGIN IMMEDIATE): the write lock is taken up
   * front, so no other process can change what `work` read before it commits.
   */
  write<T>(work: () => T): T {
    this.ensureOpen();
    let result: T;
    try {
      result = this.transaction.immediate(work) as T;
    } catch (error) {
      throw toStoreError(this.location, error);
    }
    this.afterWrite?.();
    return result;
  }

  /** Runs `work` in a read transaction: one consistent snapshot, no write lock. */
  read<T>(work: () => T): T {
    this.ensureOpen();
    try {
      return this.transaction.deferred(work) as T;
    } catch (error) {
      throw toStoreError(this.location, error);
    }
  }

  /** Runs a single statement (atomic on its own) outside an explicit transaction. */
  single<T>(work: () => T, writes = false): T {
    this.ensureOpen();
    let result: T;
    try {
      result = work();
    } catch (error) {
      throw toStoreError(this.location, error);
    }
    if (writes) this.afterWrite?.();
    return result;
  }

  /** Runs raw SQL (several statements allowed); for migrations. */
  exec(sql: string): void {
    this.ensureOpen();
    this.handle.run(sql);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const statement of this.statements.values()) statement.finalize();
    this.statements.clear();
    try {
      this.handle.close(true);
    } catch (error) {
      throw toStoreError(this.location, error);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new StemError("closed", `SQLite database ${this.location} is closed`);
  }
}

/**
 * Opens (creating if needed) the database at `target`, with its parent folder, and sets
 * the pragmas for sharing one file between processes. Throws StemError naming the path.
 */
export function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions): SqliteDatabase {
  const location = target.kind === "file" ? target.path : ":memory:";
  if (target.kind === "file") prepareLocation(target.path, options.existingOnly ?? false);
  let handle: Database | undefined;
  try {
    handle = new Database(target.kind === "file" ? target.path : ":memory:", {
      create: !options.existingOnly,
      readwrite: true,
      strict: true,
    });
    handle.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    // Checked before anything is written (WAL mode is): a reader leaves a stranger's file alone.
    if (options.existingOnly && !handle.query(HAS_STEM_TABLES).get())
      throw new StoreMissingError(`${location} (the file has no Stem tables)`);
    if (target.kind === "file") useWal(handle, options.busyTimeoutMs);
    handle.run("PRAGMA synchronous = NORMAL");
  } catch (error) {
    handle?.close(false);
    throw toStoreError(location, error);
  }
  return new SqliteDatabase(handle, target, options.clock);
}

/**
 * Switches the file to write-ahead logging (kept in the file, so later opens find it
 * set). SQLite answers SQLITE_BUSY at once, without the busy handler, when another
 * process is switching the same fresh file, so this retries up to the busy timeout.
 */
function useWal(handle: Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      handle.query("PRAGMA journal_mode = WAL").get();
      return;
    } catch (error) {
      const busy = error instanceof SQLiteError && error.code?.startsWith("SQLITE_BUSY");
      if (!busy || Date.now() >= deadline) throw error;
      Bun.sleepSync(5 + Math.random() * 20);
    }
  }
}

/**
 * Refuses a folder where a file is expected and creates missing parent folders (or, with
 * `existingOnly`, refuses a missing file).
 */
function prepareLocation(path: string, existingOnly: boolean): void {
  let existing: ReturnType<typeof statSync>;
  try {
    existing = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if (existingOnly && (error as NodeJS.ErrnoException).code === "ENOTDIR")
      throw new StoreMissingError(path);
    // ENOTDIR (a parent is a file), EACCES (a parent cannot be searched), ELOOP ...
    throw new StemError(
      "store_unavailable",
      `cannot open SQLite database ${path}: ${describeFsError(error)}`,
      { cause: error },
    );
  }
  if (existing?.isDirectory()) {
    throw new StemError(
      "store_unavailable",
      `cannot open SQLite database ${path}: it is a folder, not a database file`,
    );
  }
  if (existing) return;
  if (existingOnly) throw new StoreMissingError(path);
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new StemError(
      "store_unavailable",
      `cannot create SQLite database ${path}: its folder ${folder} cannot be created (${describeFsError(error)})`,
      { cause: error },
    );
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOTDIR":
      return "ENOTDIR: part of the path is a file, not a folder";
    case "EACCES":
    case "EPERM":
      return `${code}: permission denied`;
    case "EROFS":
      return "EROFS: the file system is read-only";
    default:
      return code ?? (error as Error).message;
  }
}
