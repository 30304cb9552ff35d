/**
 * Long-poll support for the broker: waits, on a connection of its own, until a new entry
 * arrives on any of some streams, a time passes, or the caller aborts.
 *
 * The wait is a plain `XREAD BLOCK` from the streams' last ids: it only signals that
 * something arrived and consumes nothing, so an abandoned wait loses no message. The
 * fetch script then leases atomically, with strict priority and an exact count, which
 * a multi-stream XREADGROUP BLOCK cannot promise.
 *
 * Each concurrent wait needs its own connection (a blocked connection serves nothing
 * else), so connections are pooled and made on demand.
 */
import type { RedisClient } from "./client.ts";

/** Extra time allowed for the server's reply before a wait is given up as stuck. */
const STUCK_GRACE_MS = 2000;

export class StreamWaiter {
  private readonly idle: RedisClient[] = [];
  private readonly all = new Set<RedisClient>();
  private closed = false;

  /** `connect` opens a new connection for blocking reads. */
  constructor(private readonly connect: () => RedisClient) {}

  /**
   * Resolves after a new entry arrives on one of `streams` (after the matching id in
   * `ids`), after `ms`, on abort, or when the connection fails: callers re-check the
   * store in every case, so all of these are simply "look again".
   */
  async wait(streams: string[], ids: string[], ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return;
    const conn = this.idle.pop() ?? this.open();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    let healthy = true;
    const read = conn
      .xread("COUNT", 1, "BLOCK", Math.max(1, Math.ceil(ms)), "STREAMS", ...streams, ...ids)
      .then(
        () => true,
        () => false,
      );
    const stuck = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms + STUCK_GRACE_MS);
    });
    const aborted = new Promise<boolean>((resolve) => {
      onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    // A dropped connection never answers a read it did not resend: end the wait at once.
    let onClose: (() => void) | undefined;
    const dropped = new Promise<boolean>((resolve) => {
      onClose = () => resolve(false);
      conn.once("close", onClose);
    });
    try {
      healthy = await Promise.race([read, stuck, aborted, dropped]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (onClose) conn.off("close", onClose);
    }
    if (healthy && !this.closed) {
      this.idle.push(conn);
    } else {
      // Aborted, stuck or failed: the connection may still be blocked; drop it.
      this.all.delete(conn);
      conn.disconnect();
    }
  }

  private open(): RedisClient {
    const conn = this.connect();
    this.all.add(conn);
    return conn;
  }

  /** Closes every connection; waits in progress end at once. */
  close(): void {
    this.closed = true;
    for (const conn of this.all) conn.disconnect();
    this.all.clear();
    this.idle.length = 0;
  }
}
