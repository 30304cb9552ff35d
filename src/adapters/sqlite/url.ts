/**
 * SQLite store URLs: `sqlite://PATH` with PATH relative (`sqlite://./.stem/stem.db`,
 * `sqlite://data/stem.db`), absolute (`sqlite:///var/lib/stem.db`) or under the home
 * folder (`sqlite://~/stem.db`); `sqlite::memory:` or `sqlite://:memory:` for a database
 * private to one connection. Query parameters: `resultTtl` (a duration such as `2h`, or
 * `resultTtlMs`) and `busyTimeout` (or `busyTimeoutMs`).
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { parseDuration } from "../../core/duration.ts";
import { StemError } from "../../core/errors.ts";
import type { DatabaseTarget } from "./database.ts";

/** What a SQLite URL says: where the database is and any options in its query. */
export interface SqliteUrl {
  target: DatabaseTarget;
  resultTtlMs?: number;
  busyTimeoutMs?: number;
}

const PARAMS = ["resultTtl", "resultTtlMs", "busyTimeout", "busyTimeoutMs"];

/** Parses a SQLite URL; relative paths resolve against `cwd`. Throws StemError("unsupported_url"). */
export function parseSqliteUrl(url: string, cwd = process.cwd()): SqliteUrl {
  if (!url.startsWith("sqlite:")) {
    throw new StemError(
      "unsupported_url",
      `"${url}" is not a SQLite URL: use sqlite://PATH or sqlite::memory:`,
    );
  }
  const queryAt = url.indexOf("?");
  const rest = url.slice("sqlite:".length, queryAt === -1 ? undefined : queryAt);
  const parsed: SqliteUrl = { target: targetOf(url, rest, cwd) };
  if (queryAt !== -1) readParams(url, new URLSearchParams(url.slice(queryAt + 1)), parsed);
  return parsed;
}

function targetOf(url: string, rest: string, cwd: string): DatabaseTarget {
  const raw = rest.startsWith("//") ? rest.slice(2) : rest;
  if (raw === ":memory:") return { kind: "memory" };
  if (raw === "") {
    throw new StemError(
      "unsupported_url",
      `SQLite URL "${url}" names no database file: use e.g. sqlite://./.stem/stem.db or sqlite::memory:`,
    );
  }
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw new StemError("unsupported_url", `SQLite URL "${url}" has a badly escaped path`);
  }
  if (path === "~" || path.startsWith("~/")) path = homedir() + path.slice(1);
  return { kind: "file", path: resolve(cwd, path) };
}

function readParams(url: string, params: URLSearchParams, out: SqliteUrl): void {
  for (const [name, value] of params) {
    switch (name) {
      case "resultTtl":
      case "resultTtlMs":
        out.resultTtlMs = parseDuration(value, `${name} in SQLite URL "${url}"`);
        break;
      case "busyTimeout":
      case "busyTimeoutMs":
        out.busyTimeoutMs = parseDuration(value, `${name} in SQLite URL "${url}"`);
        break;
      default:
        throw new StemError(
          "invalid_argument",
          `unknown parameter "${name}" in SQLite URL "${url}" (supported: ${PARAMS.join(", ")})`,
        );
    }
  }
}
