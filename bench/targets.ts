/**
 * Where benchmarks run: the servers, and a fresh, empty store URL per phase for each
 * adapter (a new SQLite file, Redis prefix or Postgres schema), removed by `cleanup`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisClusterFixture, startRedisCluster } from "../test/e2e/fixtures/redis-cluster.ts";
import { postgresSchemas } from "./postgres-schemas.ts";
import { redisPrefixes } from "./redis-prefixes.ts";

export const REDIS_URL = process.env.STEM_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
export const POSTGRES_URL =
  process.env.STEM_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface StoreTarget {
  /** A new, empty store URL. */
  next(): Promise<string>;
  cleanup(): Promise<void>;
}

const makers: Record<string, (name: string) => StoreTarget> = {
  sqlite: (name) => {
    const dir = mkdtempSync(join(tmpdir(), `${name}-`));
    let n = 0;
    return {
      next: async () => `sqlite://${join(dir, `bench-${++n}.db`)}`,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  redis: (name) => {
    const prefixes = redisPrefixes(REDIS_URL, name);
    return {
      next: async () => `${REDIS_URL}?prefix=${prefixes.next()}`,
      cleanup: () => prefixes.cleanup(),
    };
  },
  // A private three-node cluster on loopback, started on first use and stopped by cleanup.
  "redis-cluster": (name) => {
    let cluster: Promise<RedisClusterFixture> | undefined;
    let n = 0;
    return {
      next: async () =>
        `${(await (cluster ??= startRedisCluster())).url}?prefix=${name}-${process.pid}-${n++}`,
      cleanup: async () => {
        await (await cluster)?.stop();
      },
    };
  },
  postgres: (name) => {
    const schemas = postgresSchemas(POSTGRES_URL, name.replace(/-/g, "_"));
    return {
      next: async () => `${POSTGRES_URL}?schema=${await schemas.next()}`,
      cleanup: () => schemas.cleanup(),
    };
  },
};

/** Store URLs for `adapter` (sqlite, redis, redis-cluster or postgres), named after the benchmark. */
export function storeTarget(adapter: string, name: string): StoreTarget {
  const make = makers[adapter];
  if (!make)
    throw new Error(`unknown adapter "${adapter}" (use ${Object.keys(makers).join(", ")})`);
  return make(name);
}
