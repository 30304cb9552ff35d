import { connect, redactUrl } from "../adapters/url.ts";
import type { StemConfig } from "./config.ts";

export interface HealthCheck {
  store: string;
  url: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/** Connects to one URL and makes a round trip, within `timeoutMs`. */
export async function checkStore(
  store: string,
  url: string,
  timeoutMs: number,
): Promise<HealthCheck> {
  const started = performance.now();
  // A check never creates a store: a missing SQLite file or Postgres schema is a failure.
  const connecting = connect(url, { existingOnly: true });
  try {
    const connection = await withTimeout(connecting, timeoutMs, "connect");
    try {
      await withTimeout(
        connection.ping(),
        Math.max(1, timeoutMs - (performance.now() - started)),
        "round trip",
      );
    } finally {
      await connection.close().catch(() => {});
    }
    return {
      store,
      url: redactUrl(url),
      ok: true,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    // A connection that opens after the timeout is closed when it does.
    connecting.then((c) => c.close()).catch(() => {});
    return {
      store,
      url: redactUrl(url),
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: (error as Error).message,
    };
  }
}

/** Checks every configured store. */
export async function checkHealth(config: StemConfig, timeoutMs: number): Promise<HealthCheck[]> {
  const stores: [string, string | undefined][] = [
    ["broker", config.brokerUrl],
    ["backend", config.backendUrl],
    ["lock store", config.lockStoreUrl],
    ["schedule store", config.scheduleStoreUrl],
    ["workflow store", config.workflowStoreUrl],
  ];
  return Promise.all(
    stores
      .filter((s): s is [string, string] => Boolean(s[1]))
      .map(([store, url]) => checkStore(store, url, timeoutMs)),
  );
}
