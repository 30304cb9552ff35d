import { deletePrefix, randomPrefix, requireRedis, TEST_REDIS_URL } from "./fixtures/redis-server.ts";
import { workerProcessScenarios } from "./worker-processes.ts";

workerProcessScenarios("Redis", async () => {
  await requireRedis();
  const prefix = randomPrefix("e2e-workers");
  const sep = TEST_REDIS_URL.includes("?") ? "&" : "?";
  return { url: `${TEST_REDIS_URL}${sep}prefix=${prefix}`, cleanup: () => deletePrefix(prefix) };
});
