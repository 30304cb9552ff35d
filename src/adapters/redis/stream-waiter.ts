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
 * else), so connections are pooled and made on demand: one pool per node on a cluster,
 * where a wait goes to the node that holds its streams.
 */
import type { RedisClient } from "./client.ts";

/** Extra time allowed for the server's reply before a wait is given up as stuck. */
const STUCK_GRACE_MS = 2000;

export class StreamWaiter {
  /** Idle connections per node. */
  private readonly idle = new Map<string, RedisClient[]>();
  private readonly all = new Set<RedisClient>();
  private closed = false;

  /**
   * `connect(node)` opens a new connection for blocking reads on `node`, the name
   * `nodeOf(streams)` gives the node where a wait on those streams must go (by default
   * one node for all).
   */
  constructor(
    private readonly connect: (node: string) => RedisClient,
    private readonly nodeOf: (streams: string[]) => string = () => "",
  ) {}

  /**
   * Resolves after a new entry arrives on one of `streams` (after the matching id in
   * `ids`), after `ms`, on abort, or when the connection fails: callers re-check the
   * store in every case, so all of these are simply "look again".
   */
  async wait(streams: string[], ids: string[], ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return;
    const node = this.nodeOf(streams);
    const idle = this.idle.get(node) ?? [];
    this.idle.set(node, idle);
    const conn = idle.pop() ?? this.open(node);
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
      idle.push(conn);
    } else {
      // Aborted, stuck or failed (on a cluster also: the slot moved to another node): the
      // connection may still be blocked; drop it.
      this.all.delete(conn);
      conn.disconnect();
    }
  }

  private open(node: string): RedisClient {
    const conn = this.connect(node);
    this.all.add(conn);
    return conn;
  }

  /** Closes every connection; waits in progress end at once. */
  close(): void {
    this.closed = true;
    for (const conn of this.all) conn.disconnect();
    this.all.clear();
    this.idle.clear();
  }
}
