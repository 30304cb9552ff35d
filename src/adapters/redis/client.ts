/**
 * The command client every Redis store uses: a connection to one server, or an ioredis
 * Cluster client that routes each command to the node holding its keys' slot.
 */
import { Cluster, type Redis } from "ioredis";

/** A single-server connection or a cluster client. */
export type RedisClient = Redis | Cluster;

/** True when `client` talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * Where to PUBLISH. On a cluster: one master every client picks alike (the lowest address).
 * A cluster forwards a message from the node it was published on to the others, each over
 * that node's own link, so publishes sent through different nodes can overtake each other;
 * through one node they reach every subscriber in the order they were sent.
 */
export function publisherOf(client: RedisClient): RedisClient {
  if (!isCluster(client)) return client;
  const address = (node: Redis) => `${node.options.host}:${node.options.port}`;
  const masters = client.nodes("master");
  if (masters.length === 0) return client;
  return masters.reduce((a, b) => (address(a) <= address(b) ? a : b));
}

/**
 * Every key matching a SCAN `pattern`, once each. A cluster client sends SCAN to one
 * node, so on a cluster every master is scanned.
 */
export async function scanKeys(client: RedisClient, pattern: string): Promise<Set<string>> {
  const nodes = isCluster(client) ? client.nodes("master") : [client];
  // SCAN may return a key twice; a set counts it once.
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      for (const key of keys) found.add(key);
      cursor = next;
    } while (cursor !== "0");
  }
  return found;
}
