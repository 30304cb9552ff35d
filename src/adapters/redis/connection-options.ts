/**
 * Turns a `redis://` / `rediss://` URL and ConnectOptions into ioredis options.
 *
 * `redis://[user[:password]@]host[:port][/db][?prefix=NAME&resultTtlMs=MS]`
 */
import { isIP } from "node:net";
import type { RedisOptions } from "ioredis";
import type { ConnectOptions } from "../contracts.ts";
import { StemError } from "../../core/errors.ts";
import { loadTls } from "../../security/tls.ts";
import { redactUrl } from "../url.ts";

/** The key prefix when none is given. */
export const DEFAULT_PREFIX = "stem";

export interface RedisSettings {
  /** The URL with any password removed. */
  url: string;
  prefix: string;
  resultTtlMs?: number;
  /** Options for every connection (command, blocking, subscriber). */
  ioredis: RedisOptions;
}

const QUERY_PARAMS = new Set(["prefix", "resultTtlMs"]);

function invalid(url: string, problem: string): StemError {
  return new StemError("invalid_argument", `invalid Redis URL "${redactUrl(url)}": ${problem}`);
}

/** Reconnect backoff: 50 ms, 100 ms, ... capped at 2 s, forever. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 50, 2000);
}

/** Parses the URL; explicit options win over URL query parameters. */
export function redisSettings(url: string, options: ConnectOptions = {}): RedisSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, "not a URL (expected redis://host[:port][/db])");
  }
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase();
  if (scheme !== "redis" && scheme !== "rediss") {
    throw invalid(url, `scheme must be redis:// or rediss://, got ${scheme}://`);
  }
  for (const key of parsed.searchParams.keys()) {
    if (!QUERY_PARAMS.has(key)) {
      throw invalid(
        url,
        `unknown query parameter "${key}" (known: ${[...QUERY_PARAMS].join(", ")})`,
      );
    }
  }
  const dbText = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (dbText !== "" && !/^\d+$/.test(dbText)) {
    throw invalid(url, `the path must be a database number, got "/${dbText}"`);
  }
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  const prefix = options.prefix ?? parsed.searchParams.get("prefix") ?? DEFAULT_PREFIX;
  if (prefix.length === 0 || /\s/.test(prefix)) {
    throw invalid(url, `key prefix "${prefix}" must be non-empty and without spaces`);
  }
  let resultTtlMs = options.resultTtlMs;
  const ttlText = parsed.searchParams.get("resultTtlMs");
  if (resultTtlMs === undefined && ttlText !== null) {
    resultTtlMs = Number(ttlText);
    if (!Number.isInteger(resultTtlMs) || resultTtlMs <= 0) {
      throw invalid(url, `resultTtlMs must be a positive integer, got "${ttlText}"`);
    }
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  const ioredis: RedisOptions = {
    host,
    port,
    db: dbText === "" ? 0 : Number(dbText),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    lazyConnect: true,
    connectTimeout: 10_000,
    retryStrategy: reconnectDelay,
  };
  if (scheme === "rediss") {
    const tls = loadTls(options.tls);
    ioredis.tls = {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      // SNI takes host names only; an IP address is still verified against the
      // certificate's IP subjectAltName.
      ...(isIP(host) === 0 ? { servername: host } : {}),
    };
  }
  return { url: redactUrl(url), prefix, resultTtlMs, ioredis };
}
