/**
 * A Redis Cluster over TLS for real: three nodes that only speak TLS (to clients and on
 * the cluster bus) and require a client certificate, certificates made by openssl for
 * this run, and Stem connecting through `rediss+cluster://` (and `rediss://...?cluster=true`)
 * with the STEM_TLS_* settings.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TlsOptions } from "../../src/adapters/contracts.ts";
import { connect } from "../../src/adapters/url.ts";
import { defineTask, StemClient, StemError } from "../../src/index.ts";
import { tlsOptionsFromEnv } from "../../src/security/tls.ts";
import { uniqueName } from "../../src/testing/harness.ts";
import { type RedisClusterFixture, startRedisCluster } from "./fixtures/redis-cluster.ts";
import {
  connectFailure,
  expectStoreRoundTrip,
  makeTestCertificates,
  type TestCertificates,
  tlsEnv,
} from "./fixtures/tls-certs.ts";

let certs: TestCertificates;
let cluster: RedisClusterFixture;

beforeAll(async () => {
  certs = await makeTestCertificates();
  cluster = await startRedisCluster({ tls: certs });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  certs?.cleanup();
});

function tls(ca?: string): TlsOptions {
  return tlsOptionsFromEnv(tlsEnv(certs, ca));
}

test("publish, fetch, ack and results over rediss+cluster:// and rediss://...?cluster=true", async () => {
  expect(cluster.url).toStartWith("rediss+cluster://");
  const [firstNode] = cluster.url.replace("rediss+cluster://", "").split(",");
  for (const url of [cluster.url, `rediss://${firstNode}?cluster=true`]) {
    const prefix = uniqueName("tls-cluster");
    const connection = await connect(`${url}${url.includes("?") ? "&" : "?"}prefix=${prefix}`, {
      tls: tls(),
    });
    try {
      await expectStoreRoundTrip(connection, { ok: true });
    } finally {
      await connection.close();
      await cluster.deletePrefix(prefix);
    }
  }
});

test("a client and a worker run tasks on two queues end to end over TLS", async () => {
  const task = defineTask<{ who: string }, string>({
    name: "tls.cluster.hello",
    run: (_ctx, { who }) => `hello ${who}`,
  });
  const prefix = uniqueName("tls-cluster-app");
  const client = await StemClient.fromUrl(`${cluster.url}?prefix=${prefix}`, {
    tasks: [task],
    connectOptions: { tls: tls() },
  });
  try {
    await client.createWorker({ queues: ["north", "south"] }).start();
    for (const queue of ["north", "south"]) {
      const id = await client.enqueue("tls.cluster.hello", { who: queue }, { queue });
      expect(await client.waitForTask(id, { timeout: "15s" })).toMatchObject({
        state: "succeeded",
        value: `hello ${queue}`,
      });
    }
  } finally {
    await client.close();
    await cluster.deletePrefix(prefix);
  }
});

test("node certificates from another CA are refused with a certificate error", async () => {
  const failure = await connectFailure(cluster.url, tls(certs.otherCaCert));
  expect(failure).toBeInstanceOf(StemError);
  expect((failure as StemError).code).toBe("store_unavailable");
  expect((failure as Error).message).toMatch(
    /cannot connect to Redis at rediss\+cluster:\/\/.*certificate/i,
  );
});
