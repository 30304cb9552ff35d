/**
 * Picks an adapter from a URL: `memory://`, `sqlite://PATH` / `sqlite::memory:`,
 * `redis://` / `rediss://` (and their `+cluster` forms), `postgres://` / `postgresql://`. Adapters are loaded on
 * demand so a SQLite-only user never loads the Redis or Postgres clients.
 */

import { StemError } from "../core/errors.ts";
import type { ConnectOptions, StoreConnection } from "./contracts.ts";
import { openMemory } from "./memory/index.ts";

/** The embedded default when no URL is configured anywhere. */
export const DEFAULT_URL = "sqlite://./.stem/stem.db";

/** The scheme of a store URL, normalised (`postgresql` → `postgres`, `rediss` → `redis`). */
export function urlScheme(url: string): "memory" | "sqlite" | "redis" | "postgres" {
  const scheme = url.startsWith("sqlite:") ? "sqlite" : url.split(":", 1)[0].toLowerCase();
  switch (scheme) {
    case "memory":
    case "sqlite":
      return scheme;
    case "redis":
    case "rediss":
    case "redis+cluster":
    case "rediss+cluster":
      return "redis";
    case "postgres":
    case "postgresql":
      return "postgres";
    default:
      throw new StemError(
        "unsupported_url",
        `unsupported store URL "${redactUrl(url)}": use memory://, sqlite://PATH, redis://, rediss://, redis+cluster://, postgres:// or postgresql://`,
      );
  }
}

/** True for a store that lives in one process's memory and is gone when it exits. */
export function isEphemeralUrl(url: string): boolean {
  return urlScheme(url) === "memory" || /^sqlite:(\/\/)?:memory:/.test(url);
}

/** The URL with any password replaced, safe to print. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@/]*)@/, "//$1:***@");
}

/** Opens a connection for a URL. Each call opens a new connection. */
export async function connect(url: string, options: ConnectOptions = {}): Promise<StoreConnection> {
  switch (urlScheme(url)) {
    case "memory":
      return openMemory(url, options);
    case "sqlite": {
      const { openSqlite } = await import("./sqlite/index.ts");
      return openSqlite(url, options);
    }
    case "redis": {
      const { openRedis } = await import("./redis/index.ts");
      return openRedis(url, options);
    }
    case "postgres": {
      const { openPostgres } = await import("./postgres/index.ts");
      return openPostgres(url, options);
    }
  }
}
