/**
 * Every contract suite against the real Redis server (127.0.0.1:6379 unless
 * STEM_TEST_REDIS_URL says otherwise), then a check that every script they ran touched
 * only keys passed in its KEYS (script-keys-check.ts).
 */
import { beforeAll } from "bun:test";
import { openRedisConnection } from "../../src/adapters/redis/index.ts";
import { deletePrefix, REDIS_URL, requireRedis } from "../e2e/fixtures/redis-server.ts";
import { redisContractSuites } from "./redis-suites.ts";
import { recordScriptKeys } from "./script-keys-check.ts";

beforeAll(requireRedis);
const scriptKeys = recordScriptKeys(REDIS_URL);

redisContractSuites("redis", {
  open(prefix, clock) {
    scriptKeys.watch(prefix);
    return openRedisConnection(REDIS_URL, { prefix, clock });
  },
  deletePrefix,
});

scriptKeys.check();
