/**
 * Turns a Stem Postgres URL and ConnectOptions into what postgres.js needs: the URL
 * without Stem's own query parameters, the schema, the pool size, the TLS settings, and
 * where LISTEN goes (the same server, a direct URL beside PgBouncer, or nowhere).
 */
import type { ConnectOptions, TlsOptions } from "../contracts.ts";
import { StemError } from "../../core/errors.ts";
import { parseDuration } from "../../core/duration.ts";
import { loadTls, tlsOptionsFromEnv } from "../../security/tls.ts";
import { redactUrl } from "../url.ts";

/** Options for `openPostgres`: the common ConnectOptions plus the pool size. */
export interface PostgresConnectOptions extends ConnectOptions {
  /** Connections in the query pool (default 10; URL `?max=`). LISTEN uses one more. */
  max?: number;
  /**
   * The URL reaches Postgres through PgBouncer in transaction pooling mode (URL
   * `?pgbouncer=true`): queries use no named prepared statements, and LISTEN goes to
   * `listenUrl` or, without one, is replaced by polling.
   */
  pgbouncer?: boolean;
  /**
   * A direct (not pooled) URL of the same database for LISTEN/NOTIFY wake-ups and control
   * messages (URL `?listen=`, percent-encoded when it has a query of its own). Only used
   * with `pgbouncer`.
   */
  listenUrl?: string;
}

/** The schema used when neither the options nor the URL name one. */
export const DEFAULT_SCHEMA = "stem";

const DEFAULT_POOL_MAX = 10;

/**
 * Schema names are used as identifiers and inside NOTIFY channel names (at most 63
 * bytes), so they are kept to plain identifiers of at most 48 characters.
 */
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Query parameters Stem reads itself; postgres.js would send them to the server. */
const STEM_PARAMS = ["schema", "prefix", "resultTtlMs", "resultTtl", "max", "pgbouncer", "listen"];

/** The TLS settings postgres.js receives as its `ssl` option. */
export type PostgresSsl =
  | false
  | "prefer"
  | {
      ca?: string;
      cert?: string;
      key?: string;
      rejectUnauthorized: boolean;
      checkServerIdentity?: () => undefined;
    };

/** Everything needed to open the pools for one Stem Postgres connection. */
export interface ResolvedPostgresOptions {
  /** The URL handed to postgres.js: Stem and TLS parameters removed. */
  clientUrl: string;
  /** The URL as given, password removed, for messages and `StoreConnection.url`. */
  displayUrl: string;
  schema: string;
  max: number;
  resultTtlMs?: number;
  ssl: PostgresSsl;
  /** Behind PgBouncer: no named prepared statements (postgres.js `prepare: false`). */
  pgbouncer: boolean;
  /**
   * Where the LISTEN connection goes: the query server itself, a direct URL given with
   * `listen=`, or null behind PgBouncer without one (waiting and control messages poll).
   */
  listen: { clientUrl: string; ssl: PostgresSsl } | null;
}

/** Throws unless `schema` is a plain identifier Stem can use as a schema name. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new StemError(
      "invalid_argument",
      `invalid Postgres schema "${schema}": use letters, digits and underscores (at most 48, not starting with a digit)`,
    );
  }
  return schema;
}

function positiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new StemError("invalid_argument", `${what}: expected a positive integer, got "${value}"`);
  }
  return n;
}

/**
 * Maps libpq's `sslmode` onto postgres.js: `disable` (or none) → plain; `allow`/`prefer` →
 * TLS when the server offers it, unverified; `require` → TLS, verified only when a CA
 * is given; `verify-ca` → certificate checked, host name not; `verify-full` → both.
 * CA, client certificate and key come from `sslrootcert`/`sslcert`/`sslkey` in the URL,
 * else from `tls` (else STEM_TLS_*).
 */
export function resolveSsl(sslmode: string | null, tls: TlsOptions): PostgresSsl {
  const mode = (sslmode ?? "disable").toLowerCase();
  if (mode === "disable") return false;
  if (mode === "allow" || mode === "prefer") return "prefer";
  const loaded = loadTls(tls);
  const files = {
    ...(loaded.ca ? { ca: loaded.ca } : {}),
    ...(loaded.cert ? { cert: loaded.cert } : {}),
    ...(loaded.key ? { key: loaded.key } : {}),
  };
  switch (mode) {
    case "require":
      return { ...files, rejectUnauthorized: loaded.ca ? loaded.rejectUnauthorized : false };
    case "verify-ca":
      return {
        ...files,
        rejectUnauthorized: loaded.rejectUnauthorized,
        checkServerIdentity: () => undefined,
      };
    case "verify-full":
      return { ...files, rejectUnauthorized: loaded.rejectUnauthorized };
    default:
      throw new StemError(
        "invalid_argument",
        `unsupported sslmode "${sslmode}": use disable, allow, prefer, require, verify-ca or verify-full`,
      );
  }
}

function booleanParam(value: string | null, what: string): boolean | undefined {
  if (value === null) return undefined;
  if (value === "true" || value === "1" || value === "") return true;
  if (value === "false" || value === "0") return false;
  throw new StemError("invalid_argument", `${what}: expected true or false, got "${value}"`);
}

/** `url` with its password and the `listen` URL's password replaced, safe to print. */
function displayPostgresUrl(url: string, parsed: URL | null): string {
  const listen = parsed?.searchParams.get("listen");
  if (!parsed || !listen) return redactUrl(url);
  const shown = new URL(redactUrl(url));
  shown.searchParams.set("listen", redactUrl(listen));
  return decodeURIComponent(shown.toString());
}

/** Reads a `postgres://` or `postgresql://` URL and the options into pool settings. */
export function resolvePostgresOptions(
  url: string,
  options: PostgresConnectOptions = {},
): ResolvedPostgresOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StemError("invalid_argument", `invalid Postgres URL "${redactUrl(url)}"`);
  }
  const displayUrl = displayPostgresUrl(url, parsed);
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new StemError(
      "unsupported_url",
      `not a Postgres URL: "${displayUrl}" (use postgres:// or postgresql://)`,
    );
  }
  const params = parsed.searchParams;
  const schema = checkSchemaName(options.schema ?? params.get("schema") ?? DEFAULT_SCHEMA);
  const maxParam = params.get("max");
  const max =
    options.max ??
    (maxParam !== null ? positiveInt(maxParam, "max in the Postgres URL") : DEFAULT_POOL_MAX);
  if (!Number.isInteger(max) || max < 1) {
    throw new StemError("invalid_argument", `max: expected a positive integer, got ${max}`);
  }
  let resultTtlMs = options.resultTtlMs;
  if (resultTtlMs === undefined && params.get("resultTtlMs") !== null) {
    resultTtlMs = parseDuration(
      Number(params.get("resultTtlMs")),
      "resultTtlMs in the Postgres URL",
    );
  }
  if (resultTtlMs === undefined && params.get("resultTtl") !== null) {
    resultTtlMs = parseDuration(params.get("resultTtl")!, "resultTtl in the Postgres URL");
  }

  const tls: TlsOptions = { ...(options.tls ?? tlsOptionsFromEnv()) };
  const rootCert = params.get("sslrootcert");
  if (rootCert && rootCert !== "system") tls.caCertFile = rootCert;
  if (params.get("sslcert")) tls.clientCertFile = params.get("sslcert")!;
  if (params.get("sslkey")) tls.clientKeyFile = params.get("sslkey")!;
  const sslmode = params.get("sslmode") ?? (rootCert === "system" ? "verify-full" : null);
  const ssl = resolveSsl(sslmode, tls);

  const pgbouncer =
    options.pgbouncer ?? booleanParam(params.get("pgbouncer"), "pgbouncer in the Postgres URL");
  const listenUrl = options.listenUrl ?? params.get("listen") ?? undefined;
  if (listenUrl !== undefined && !pgbouncer) {
    throw new StemError(
      "invalid_argument",
      "listen in the Postgres URL is for PgBouncer: add pgbouncer=true, or drop listen (LISTEN then uses the URL itself)",
    );
  }

  for (const name of [...STEM_PARAMS, "sslmode", "sslrootcert", "sslcert", "sslkey"]) {
    params.delete(name);
  }
  const clientUrl = parsed.toString();
  let listen: ResolvedPostgresOptions["listen"] = pgbouncer ? null : { clientUrl, ssl };
  if (listenUrl !== undefined) {
    const direct = resolvePostgresOptions(listenUrl, { tls: options.tls });
    listen = { clientUrl: direct.clientUrl, ssl: direct.ssl };
  }
  return {
    clientUrl,
    displayUrl,
    schema,
    max,
    resultTtlMs,
    ssl,
    pgbouncer: pgbouncer ?? false,
    listen,
  };
}
