/**
 * Every contract suite against the real Redis server (127.0.0.1:6379 unless
 * STEM_TEST_REDIS_URL says otherwise). Each create() works under a fresh key prefix; the
 * peer is a second connection on the same prefix, as another process would open.
 */
import { beforeAll } from "bun:test";
import { openRedisConnection, type RedisConnection } from "../../src/adapters/redis/index.ts";
import {
  brokerContract,
  concurrencySlotsContract,
  type ContractFactory,
  controlBusContract,
  lockStoreContract,
  rateLimiterContract,
  minuteCountsContract,
  resultBackendContract,
  retentionContract,
  revokeStoreContract,
  scheduleStoreContract,
  workflowFencingContract,
  workflowStoreContract,
  type WorkflowStoreContractFactory,
} from "../../src/testing/index.ts";
import {
  deletePrefix,
  openTestConnection,
  randomPrefix,
  REDIS_URL,
  requireRedis,
} from "../e2e/fixtures/redis-server.ts";
import { workflowStoreMatchesMemory, workflowStoreRaces } from "./workflow-store-checks.ts";

beforeAll(requireRedis);

function onRedis<T>(pick: (connection: RedisConnection) => T): ContractFactory<T> {
  return {
    async create() {
      const prefix = randomPrefix("contract");
      const connections = [await openTestConnection(prefix)];
      return {
        subject: pick(connections[0]),
        async peer() {
          const other = await openTestConnection(prefix);
          connections.push(other);
          return pick(other);
        },
        async cleanup() {
          await Promise.all(connections.map((c) => c.close()));
          await deletePrefix(prefix);
        },
      };
    },
  };
}

brokerContract(
  "redis",
  onRedis((c) => c.broker()),
);
resultBackendContract(
  "redis",
  onRedis((c) => c.resultBackend()),
);
minuteCountsContract(
  "redis",
  onRedis((c) => c.resultBackend()),
);
lockStoreContract(
  "redis",
  onRedis((c) => c.lockStore()),
);
revokeStoreContract(
  "redis",
  onRedis((c) => c.revokeStore()),
);
rateLimiterContract(
  "redis",
  onRedis((c) => c.rateLimiter()),
);
concurrencySlotsContract(
  "redis",
  onRedis((c) => c.concurrencySlots()),
);
scheduleStoreContract(
  "redis",
  onRedis((c) => c.scheduleStore()),
);
controlBusContract(
  "redis",
  onRedis((c) => c.controlBus()),
);

// The workflow store takes its time from the suite's fake clock, given to the connection.
const onRedisWithClock: WorkflowStoreContractFactory = {
  async create(clock) {
    const prefix = randomPrefix("contract");
    const open = () => openRedisConnection(REDIS_URL, { prefix, clock });
    const connections = [await open()];
    return {
      subject: connections[0].workflowStore(),
      async peer() {
        const other = await open();
        connections.push(other);
        return other.workflowStore();
      },
      async cleanup() {
        await Promise.all(connections.map((c) => c.close()));
        await deletePrefix(prefix);
      },
    };
  },
};

workflowStoreContract("redis", onRedisWithClock);
workflowFencingContract("redis", onRedisWithClock);
workflowStoreRaces("redis", onRedisWithClock);
workflowStoreMatchesMemory("redis", onRedisWithClock);

retentionContract(
  "redis",
  onRedis((c) => c),
);
