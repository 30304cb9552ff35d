/**
 * `stem health`: for each configured store, connect (never creating it), verify the data
 * (integrity and schema version, see StoreConnection.verify) and make a write/read round
 * trip through the lock store, all within a deadline. A check that answers after the
 * deadline fails even if it answered well: SQLite works synchronously, so its timers
 * cannot interrupt it, and a late `ok` would hide a store too slow to use.
 */
import type { StoreConnection } from "../adapters/contracts.ts";
import { connect, redactUrl } from "../adapters/url.ts";
import { uuidv7 } from "../core/uuid.ts";
import type { StemConfig } from "./config.ts";

export interface HealthCheck {
  store: string;
  url: string;
  ok: boolean;
  latencyMs: number;
  /** The store's schema version, where it has one. */
  schemaVersion?: number;
  error?: string;
}

/** Rejects when `promise` has not settled by `deadline` (performance.now() time). */
function before<T>(promise: Promise<T>, deadline: number, what: string, timeoutMs: number) {
  return new Promise<T>((resolve, reject) => {
    const fail = () => reject(new Error(`${what} did not finish within ${timeoutMs} ms`));
    const timer = setTimeout(fail, Math.max(0, deadline - performance.now()));
    promise.then(
      (v) => {
        clearTimeout(timer);
        // A step that blocked the event loop past the deadline answered too late.
        if (performance.now() > deadline) fail();
        else resolve(v);
      },
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/** A lock taken, read back and released: a write and a read through the store. */
async function roundTrip(connection: StoreConnection): Promise<void> {
  const locks = connection.lockStore();
  const key = `stem:health:${uuidv7()}`;
  const owner = `health-${process.pid}`;
  if (!(await locks.acquire(key, owner, 10_000)))
    throw new Error("write/read round trip: a fresh lock could not be taken");
  try {
    const read = await locks.ownerOf(key);
    if (read !== owner)
      throw new Error(`write/read round trip: wrote owner ${owner}, read back ${read}`);
  } finally {
    await locks.release(key, owner);
  }
}

/** Connects to one URL, verifies it and makes a round trip, within `timeoutMs`. */
export async function checkStore(
  store: string,
  url: string,
  timeoutMs: number,
): Promise<HealthCheck> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  const elapsed = () => Math.round(performance.now() - started);
  // A check never creates a store: a missing SQLite file or Postgres schema is a failure.
  const connecting = connect(url, { existingOnly: true });
  try {
    const connection = await before(connecting, deadline, "connect", timeoutMs);
    try {
      const { schemaVersion } = await before(
        connection.verify(),
        deadline,
        "integrity check",
        timeoutMs,
      );
      await before(roundTrip(connection), deadline, "write/read round trip", timeoutMs);
      return { store, url: redactUrl(url), ok: true, latencyMs: elapsed(), schemaVersion };
    } finally {
      await connection.close().catch(() => {});
    }
  } catch (error) {
    // A connection that opens after the timeout is closed when it does.
    connecting.then((c) => c.close()).catch(() => {});
    return {
      store,
      url: redactUrl(url),
      ok: false,
      latencyMs: elapsed(),
      error: (error as Error).message,
    };
  }
}

/** Checks every configured store; stores sharing a URL are checked once. */
export async function checkHealth(config: StemConfig, timeoutMs: number): Promise<HealthCheck[]> {
  const stores: [string, string | undefined][] = [
    ["broker", config.brokerUrl],
    ["backend", config.backendUrl],
    ["lock store", config.lockStoreUrl],
    ["schedule store", config.scheduleStoreUrl],
    ["workflow store", config.workflowStoreUrl],
  ];
  const byUrl = new Map<string, Promise<HealthCheck>>();
  return Promise.all(
    stores
      .filter((s): s is [string, string] => Boolean(s[1]))
      .map(async ([store, url]) => {
        if (!byUrl.has(url)) byUrl.set(url, checkStore(store, url, timeoutMs));
        return { ...(await byUrl.get(url)), store } as HealthCheck;
      }),
  );
}
