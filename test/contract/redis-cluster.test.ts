/**
 * Every contract suite against a real three-node Redis Cluster started for this file
 * (see test/e2e/fixtures/redis-cluster.ts): the same suites as redis.test.ts, unchanged,
 * and the task timeline contract (timeline.test.ts runs it on a single server), whose
 * statuses go through the cluster's two-step status-then-ack and status-then-publish.
 */
import { afterAll, beforeAll } from "bun:test";
import { openRedisConnection } from "../../src/adapters/redis/index.ts";
import { enqueueOnceContract, timelineContract } from "../../src/testing/index.ts";
import { type RedisClusterFixture, startRedisCluster } from "../e2e/fixtures/redis-cluster.ts";
import { randomPrefix } from "../e2e/fixtures/redis-server.ts";
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

/** A broker and result backend under a fresh prefix of the cluster. */
const clusterStores = (what: string) => ({
  async create() {
    const prefix = randomPrefix(what);
    const connection = await openRedisConnection(cluster.url, { prefix });
    const stores = () => ({ backend: connection.resultBackend(), broker: connection.broker() });
    return {
      subject: stores(),
      peer: async () => stores(),
      async cleanup() {
        await connection.close();
        await cluster.deletePrefix(prefix);
      },
    };
  },
});

timelineContract("redis cluster", clusterStores("timeline"));
enqueueOnceContract("redis cluster", clusterStores("once"));
