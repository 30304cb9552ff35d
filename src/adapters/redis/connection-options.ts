/**
 * Turns a `redis://` / `rediss://` URL and ConnectOptions into ioredis options.
 *
 * `redis://[user[:password]@]host[:port][/db][?prefix=NAME&resultTtlMs=MS]`
 *
 * A Redis Cluster: `redis+cluster://[user[:password]@]host:port[,host:port...]` (or any
 * redis:// URL with `?cluster=true`; `rediss+cluster://` for TLS). The hosts are startup
 * nodes: the client learns the rest of the cluster from them.
 */
import { isIP } from "node:net";
import type { ClusterOptions, RedisOptions } from "ioredis";
import { StemError } from "../../core/errors.ts";
import { loadTls } from "../../security/tls.ts";
import type { ConnectOptions } from "../contracts.ts";
import { redactUrl } from "../url.ts";

/** The key prefix when none is given. */
export const DEFAULT_PREFIX = "stem";

export interface RedisSettings {
  /** The URL with any password removed. */
  url: string;
  prefix: string;
  resultTtlMs?: number;
  /** Options for every connection (command, blocking, subscriber); per node on a cluster. */
  ioredis: RedisOptions;
  /** Set for a Redis Cluster: its startup nodes and the cluster client's options. */
  cluster?: RedisClusterSettings;
}

/** How to reach a Redis Cluster. */
export interface RedisClusterSettings {
  nodes: { host: string; port: number }[];
  /** Options of the ioredis Cluster client, without `redisOptions` (that is `ioredis`). */
  options: ClusterOptions;
}

const QUERY_PARAMS = new Set(["prefix", "resultTtlMs", "cluster"]);
const SCHEMES = ["redis", "rediss", "redis+cluster", "rediss+cluster"];

function invalid(url: string, problem: string): StemError {
  return new StemError("invalid_argument", `invalid Redis URL "${redactUrl(url)}": ${problem}`);
}

/** Reconnect backoff: 50 ms, 100 ms, ... capped at 2 s, forever. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 50, 2000);
}

/** How often a cluster command meeting a failover is tried again. */
const FAILOVER_RETRY_MS = 500;
/** How long a cluster command waits out a failover before it fails. */
const FAILOVER_WAIT_MS = 20_000;

/** Parses the URL; explicit options win over URL query parameters. */
export function redisSettings(url: string, options: ConnectOptions = {}): RedisSettings {
  // A cluster URL may list several host:port pairs, which URL cannot parse: it parses the
  // URL with the first one, and the list is split here.
  const authority = /^([^:/]*):\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(url);
  const hostList = authority?.[2].split(",") ?? [];
  let parsed: URL;
  try {
    const head = authority?.[0] ?? "";
    parsed = new URL(
      hostList.length > 1
        ? head.slice(0, head.length - authority![2].length) + hostList[0] + url.slice(head.length)
        : url,
    );
  } catch {
    throw invalid(url, "not a URL (expected redis://host[:port][/db])");
  }
  const scheme = parsed.protocol.replace(/:$/, "").toLowerCase();
  if (!SCHEMES.includes(scheme)) {
    throw invalid(
      url,
      `scheme must be redis://, rediss://, redis+cluster:// or rediss+cluster://, got ${scheme}://`,
    );
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
  const clusterText = parsed.searchParams.get("cluster");
  if (clusterText !== null && clusterText !== "true" && clusterText !== "false") {
    throw invalid(url, `cluster must be true or false, got "${clusterText}"`);
  }
  const cluster = scheme.endsWith("+cluster") || clusterText === "true";
  if (hostList.length > 1 && !cluster) {
    throw invalid(url, "several hosts are for a Redis Cluster: use redis+cluster://");
  }
  if (cluster && dbText !== "" && dbText !== "0") {
    throw invalid(url, "a Redis Cluster has database 0 only");
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
  if (scheme.startsWith("rediss")) {
    const tls = loadTls(options.tls);
    ioredis.tls = {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      // SNI takes host names only; an IP address is still verified against the
      // certificate's IP subjectAltName. A cluster's nodes each have their own name.
      ...(isIP(host) === 0 && !cluster ? { servername: host } : {}),
    };
  }
  const settings: RedisSettings = { url: redactUrl(url), prefix, resultTtlMs, ioredis };
  if (cluster) settings.cluster = clusterSettings(url, hostList, ioredis);
  return settings;
}

/** The startup nodes of a cluster URL and the Cluster client's options. */
function clusterSettings(
  url: string,
  hostList: string[],
  ioredis: RedisOptions,
): RedisClusterSettings {
  const nodes = hostList.map((text) => {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
    const port = Number(match?.[2] ?? 6379);
    if (!match || port < 1 || port > 65535) throw invalid(url, `bad cluster node "${text}"`);
    return { host: match[1].replace(/^\[(.*)\]$/, "$1"), port };
  });
  delete ioredis.host;
  delete ioredis.port;
  delete ioredis.db;
  return {
    nodes,
    options: {
      lazyConnect: true,
      clusterRetryStrategy: reconnectDelay,
      // A command meeting a failover (its node gone, CLUSTERDOWN until a replica takes
      // over: the node timeout, 15 s by default, plus an election) is sent again every
      // FAILOVER_RETRY_MS for up to FAILOVER_WAIT_MS, as a single server's reconnects
      // would wait, instead of failing after ioredis's 1.6 s.
      retryDelayOnFailover: FAILOVER_RETRY_MS,
      retryDelayOnClusterDown: FAILOVER_RETRY_MS,
      maxRedirections: Math.ceil(FAILOVER_WAIT_MS / FAILOVER_RETRY_MS),
      // TLS certificates name the hosts the nodes announce: connect to those as they are.
      ...(ioredis.tls ? { dnsLookup: (address, done) => done(null, address) } : {}),
    },
  };
}
