/**
 * Every contract suite against the real Redis server (127.0.0.1:6379 unless
 * STEM_TEST_REDIS_URL says otherwise).
 */
import { beforeAll } from "bun:test";
import { openRedisConnection } from "../../src/adapters/redis/index.ts";
import { deletePrefix, REDIS_URL, requireRedis } from "../e2e/fixtures/redis-server.ts";
import { redisContractSuites } from "./redis-suites.ts";

beforeAll(requireRedis);

redisContractSuites("redis", {
  open: (prefix, clock) => openRedisConnection(REDIS_URL, { prefix, clock }),
  deletePrefix,
});
