/**
 * Every contract suite against a real three-node Redis Cluster started for this file
 * (see test/e2e/fixtures/redis-cluster.ts): the same suites as redis.test.ts, unchanged.
 */
import { afterAll, beforeAll } from "bun:test";
import { openRedisConnection } from "../../src/adapters/redis/index.ts";
import { type RedisClusterFixture, startRedisCluster } from "../e2e/fixtures/redis-cluster.ts";
import { redisContractSuites } from "./redis-suites.ts";

let cluster: RedisClusterFixture;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

redisContractSuites("redis cluster", {
  open: (prefix, clock) => openRedisConnection(cluster.url, { prefix, clock }),
  deletePrefix: (prefix) => cluster.deletePrefix(prefix),
});
