/**
 * Every contract suite against a real Redis server of this file's own (a redis-server on
 * a free port, so the MONITOR below sees only these suites and slows no other test), then
 * a check that every script they ran touched only keys passed in its KEYS
 * (script-keys-check.ts).
 */
import { afterAll, beforeAll } from "bun:test";
import { openRedisConnection } from "../../src/adapters/redis/index.ts";
import { deletePrefix } from "../e2e/fixtures/redis-server.ts";
import { startPrivateRedis, type TlsRedis } from "../e2e/fixtures/tls-redis.ts";
import { redisContractSuites } from "./redis-suites.ts";
import { recordScriptKeys } from "./script-keys-check.ts";

let server: TlsRedis;
beforeAll(async () => {
  server = await startPrivateRedis();
});
afterAll(async () => {
  await server?.stop();
});

const scriptKeys = recordScriptKeys(() => server.url);

redisContractSuites("redis", {
  open(prefix, clock) {
    scriptKeys.watch(prefix);
    return openRedisConnection(server.url, { prefix, clock });
  },
  deletePrefix: (prefix) => deletePrefix(prefix, server.url),
});

scriptKeys.check();
