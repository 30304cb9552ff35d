/**
 * The query side of a Postgres connection: the postgres.js pool, the schema, table
 * names, and how connection failures are retried, reported and turned into StemErrors.
 */
import type postgres from "postgres";
import { StemError } from "../../core/errors.ts";
import { logger } from "../../core/logger.ts";

/** Anything queries can run on: the pool, a transaction, a reserved connection. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/** Logs for this adapter. */
export const log = logger.withTag("postgres");

const CONNECTION_ERROR_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "57P01", // admin_shutdown (pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (server starting or stopping)
]);

/** True for errors that mean the connection was lost or could not be made. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = String((error as { code?: unknown }).code ?? "");
  return CONNECTION_ERROR_CODES.has(code) || code.startsWith("08");
}

/** True when the pool was ended by `close()`. */
export function isEndedError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "CONNECTION_ENDED" || code === "CONNECTION_DESTROYED";
}

/**
 * Reports an outage once: the first failure logs a warning, later failures stay quiet
 * until an operation succeeds again, which logs that the connection is back.
 */
export class OutageLog {
  private down = false;

  constructor(private readonly displayUrl: string) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(what: string, error: unknown): void {
    if (this.down) return;
    this.down = true;
    log.warn(
      `lost the connection to ${this.displayUrl} (${what}): ${(error as Error)?.message ?? error}; retrying`,
    );
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    log.info(`connection to ${this.displayUrl} restored`);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One schema in one database, reached through one postgres.js pool. */
export class PgDatabase {
  constructor(
    readonly sql: postgres.Sql,
    readonly schema: string,
    readonly displayUrl: string,
    readonly outage: OutageLog,
  ) {}

  /** The NOTIFY channel announcing new and released jobs in this schema. */
  get jobsChannel(): string {
    return jobsChannel(this.schema);
  }

  /** The NOTIFY channel carrying control messages in this schema. */
  get controlChannel(): string {
    return `${this.schema}.control`;
  }

  /**
   * Runs one store operation. A lost connection is retried once (postgres.js opens a
   * new connection for the retry); a failure after that is reported once per outage
   * and thrown as StemError `store_unavailable`. Operations must be safe to repeat.
   */
  async run<T>(what: string, op: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    try {
      const result = await this.retryOnce(op);
      this.outage.recovered();
      return result;
    } catch (error) {
      throw this.translate(what, error);
    }
  }

  /** The error a caller sees for a failed operation. */
  translate(what: string, error: unknown): unknown {
    if (isEndedError(error)) {
      return new StemError("closed", `the Postgres connection to ${this.displayUrl} is closed`, {
        cause: error,
      });
    }
    if ((error as { code?: unknown })?.code === "22P05") {
      return new StemError(
        "invalid_argument",
        `Postgres cannot store this value (${what}): JSON text containing the NUL character \\u0000 is not allowed in jsonb`,
        { cause: error },
      );
    }
    if (isConnectionError(error)) {
      this.outage.failed(what, error);
      return new StemError(
        "store_unavailable",
        `Postgres at ${this.displayUrl} is unreachable (${what}): ${(error as Error).message}`,
        { cause: error },
      );
    }
    return error;
  }

  private async retryOnce<T>(op: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    try {
      return await op(this.sql);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      await sleep(50);
      return await op(this.sql);
    }
  }
}

/** The NOTIFY channel for jobs in `schema` (also named by the jobs trigger). */
export function jobsChannel(schema: string): string {
  return `${schema}.jobs`;
}

/** A schema-qualified table name for use inside a query. */
export function table(sql: Queryable, schema: string, name: string): postgres.Helper<string> {
  return sql(`${schema}.${name}`) as unknown as postgres.Helper<string>;
}

/** A value sent as jsonb. */
export function json(sql: Queryable, value: unknown): postgres.Parameter {
  return sql.json(value as postgres.JSONValue);
}

/** Epoch ms to a timestamptz parameter (null stays null). */
export function toDate(ms: number | undefined | null): Date | null {
  return ms === undefined || ms === null ? null : new Date(ms);
}

/** A timestamptz column to epoch ms (null becomes undefined). */
export function toMs(value: Date | null | undefined): number | undefined {
  return value ? value.getTime() : undefined;
}
