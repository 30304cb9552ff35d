import { deletePrefix, randomPrefix, requireRedis, REDIS_URL } from "./fixtures/redis-server.ts";
import { workerProcessScenarios } from "./worker-processes.ts";

workerProcessScenarios("Redis", async () => {
  await requireRedis();
  const prefix = randomPrefix("e2e-workers");
  const sep = REDIS_URL.includes("?") ? "&" : "?";
  return { url: `${REDIS_URL}${sep}prefix=${prefix}`, cleanup: () => deletePrefix(prefix) };
});
