/**
 * Every contract suite the Redis adapter must pass, for one Redis deployment: a single
 * server (redis.test.ts) or a Redis Cluster (redis-cluster.test.ts). Each create() works
 * under a fresh key prefix; the peer is a second connection on the same prefix, as
 * another process would open.
 */

import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import type { Clock } from "../../src/core/clock.ts";
import {
  brokerContract,
  type ContractFactory,
  concurrencySlotsContract,
  controlBusContract,
  lockStoreContract,
  minuteCountsContract,
  rateLimiterContract,
  resultBackendContract,
  retentionContract,
  revokeStoreContract,
  scheduleStoreContract,
  type WorkflowStoreContractFactory,
  workflowFencingContract,
  workflowStoreContract,
} from "../../src/testing/index.ts";
import { randomPrefix } from "../e2e/fixtures/redis-server.ts";
import { workflowStoreMatchesMemory, workflowStoreRaces } from "./workflow-store-checks.ts";

/** How the suites reach one Redis deployment. */
export interface RedisDeployment {
  /** Opens a connection under `prefix` (with `clock` for the workflow store). */
  open(prefix: string, clock?: Clock): Promise<RedisConnection>;
  /** Deletes every key under `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
}

/** Registers every Redis contract suite, named `label`, against `deployment`. */
export function redisContractSuites(label: string, deployment: RedisDeployment): void {
  const onRedis = <T>(pick: (connection: RedisConnection) => T): ContractFactory<T> => ({
    async create() {
      const prefix = randomPrefix("contract");
      const connections = [await deployment.open(prefix)];
      return {
        subject: pick(connections[0]),
        async peer() {
          const other = await deployment.open(prefix);
          connections.push(other);
          return pick(other);
        },
        async cleanup() {
          await Promise.all(connections.map((c) => c.close()));
          await deployment.deletePrefix(prefix);
        },
      };
    },
  });

  brokerContract(
    label,
    onRedis((c) => c.broker()),
  );
  resultBackendContract(
    label,
    onRedis((c) => c.resultBackend()),
  );
  minuteCountsContract(
    label,
    onRedis((c) => c.resultBackend()),
  );
  lockStoreContract(
    label,
    onRedis((c) => c.lockStore()),
  );
  revokeStoreContract(
    label,
    onRedis((c) => c.revokeStore()),
  );
  rateLimiterContract(
    label,
    onRedis((c) => c.rateLimiter()),
  );
  concurrencySlotsContract(
    label,
    onRedis((c) => c.concurrencySlots()),
  );
  scheduleStoreContract(
    label,
    onRedis((c) => c.scheduleStore()),
  );
  controlBusContract(
    label,
    onRedis((c) => c.controlBus()),
  );

  // The workflow store takes its time from the suite's fake clock, given to the connection.
  const onRedisWithClock: WorkflowStoreContractFactory = {
    async create(clock) {
      const prefix = randomPrefix("contract");
      const connections = [await deployment.open(prefix, clock)];
      return {
        subject: connections[0].workflowStore(),
        async peer() {
          const other = await deployment.open(prefix, clock);
          connections.push(other);
          return other.workflowStore();
        },
        async cleanup() {
          await Promise.all(connections.map((c) => c.close()));
          await deployment.deletePrefix(prefix);
        },
      };
    },
  };

  workflowStoreContract(label, onRedisWithClock);
  workflowFencingContract(label, onRedisWithClock);
  workflowStoreRaces(label, onRedisWithClock);
  workflowStoreMatchesMemory(label, onRedisWithClock);

  retentionContract(
    label,
    onRedis((c) => c),
  );
}
