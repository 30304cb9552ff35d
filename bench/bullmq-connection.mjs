/**
 * BullMQ benchmark helper (run under Node): the ioredis connection options BullMQ gets
 * for a `redis://host:port/db` URL.
 */

/** Connection options for BullMQ from a Redis URL (workers need maxRetriesPerRequest null). */
export function bullConnection(url) {
  const u = new URL(url);
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 6379),
    db: Number(u.pathname.slice(1) || 0),
    username: u.username || undefined,
    password: u.password || undefined,
    maxRetriesPerRequest: null,
  };
}

/** The queue every BullMQ benchmark phase uses (under its own key prefix). */
export const QUEUE = "bench";
