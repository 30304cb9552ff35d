/**
 * Fresh key prefixes on one Redis server for benchmark phases, and their removal.
 */
import Redis from "ioredis";

export interface RedisPrefixes {
  /** A new, unused prefix (remembered for cleanup). */
  next(): string;
  /** Deletes every key under every prefix handed out (`PREFIX:*`). */
  cleanup(): Promise<void>;
}

export function redisPrefixes(redisUrl: string, name: string): RedisPrefixes {
  const prefixes: string[] = [];
  return {
    next() {
      const prefix = `${name}-${process.pid}-${prefixes.length}`;
      prefixes.push(prefix);
      return prefix;
    },
    async cleanup() {
      const redis = new Redis(redisUrl);
      try {
        for (const prefix of prefixes) {
          let cursor = "0";
          do {
            const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
            cursor = next;
            if (keys.length) await redis.unlink(...keys);
          } while (cursor !== "0");
        }
      } finally {
        redis.disconnect();
      }
    },
  };
}
