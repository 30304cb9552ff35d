/**
 * Redis over TLS for real: a second redis-server that only accepts TLS connections with
 * a client certificate, certificates made by openssl for this run, and Stem connecting
 * through `rediss://` with the STEM_TLS_* settings — in process, and through the built
 * `stem` binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TlsOptions } from "../../src/adapters/contracts.ts";
import { connect } from "../../src/adapters/url.ts";
import { defineTask, StemClient, StemError } from "../../src/index.ts";
import { tlsOptionsFromEnv } from "../../src/security/tls.ts";
import {
  brokerContract,
  type ContractFactory,
  resultBackendContract,
} from "../../src/testing/index.ts";
import { uniqueName } from "../../src/testing/harness.ts";
import { ensureBinary, stem, workspace } from "../cli/binary.ts";
import {
  connectFailure,
  expectStoreRoundTrip,
  makeTestCertificates,
  type TestCertificates,
  tlsEnv,
} from "./fixtures/tls-certs.ts";
import { startTlsRedis, type TlsRedis } from "./fixtures/tls-redis.ts";

let certs: TestCertificates;
let server: TlsRedis;

beforeAll(async () => {
  certs = await makeTestCertificates();
  server = await startTlsRedis(certs);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  certs?.cleanup();
});

/** TLS options trusting `ca` (default: the test CA), with the client certificate. */
function tls(ca?: string): TlsOptions {
  return tlsOptionsFromEnv(tlsEnv(certs, ca));
}

describe("rediss:// with STEM_TLS_* certificates", () => {
  test("publish, fetch and ack, and result set and get over TLS", async () => {
    const connection = await connect(`${server.url}?prefix=${uniqueName("tls")}`, { tls: tls() });
    try {
      await expectStoreRoundTrip(connection, { ok: true });
    } finally {
      await connection.close();
    }
  });

  test("a client and a worker run a task end to end over TLS", async () => {
    const task = defineTask<{ who: string }, string>({
      name: "tls.hello",
      run: (_ctx, { who }) => `hello ${who}`,
    });
    const client = await StemClient.fromUrl(`${server.url}?prefix=${uniqueName("tls-app")}`, {
      tasks: [task],
      connectOptions: { tls: tls() },
    });
    try {
      await client.createWorker().start();
      const id = await client.enqueue("tls.hello", { who: "tls" });
      expect(await client.waitForTask(id, { timeout: "15s" })).toMatchObject({
        state: "succeeded",
        value: "hello tls",
      });
    } finally {
      await client.close();
    }
  });

  test("a server certificate from another CA is refused with a certificate error", async () => {
    const failure = await connectFailure(server.url, tls(certs.otherCaCert));
    expect(failure).toBeInstanceOf(StemError);
    expect((failure as StemError).code).toBe("store_unavailable");
    expect((failure as Error).message).toMatch(
      /cannot connect to Redis at rediss:\/\/127\.0\.0\.1:\d+: .*certificate/i,
    );
  });

  test("without a client certificate the server refuses the connection", async () => {
    const failure = await connect(server.url, { tls: { caCertFile: certs.caCert } }).then(
      (c) => c.close().then(() => null),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(StemError);
    expect((failure as Error).message).toMatch(/cannot connect to Redis at rediss:\/\//);
  });

  test("STEM_TLS_ALLOW_INSECURE skips verification of the server certificate", async () => {
    const insecure = tlsOptionsFromEnv({
      ...tlsEnv(certs, certs.otherCaCert),
      STEM_TLS_ALLOW_INSECURE: "1",
    });
    const connection = await connect(server.url, { tls: insecure });
    await connection.ping();
    await connection.close();
  });
});

// The adapter contract suites, on the TLS server.
function overTls<T>(pick: (c: Awaited<ReturnType<typeof connect>>) => T): ContractFactory<T> {
  return {
    async create() {
      const url = `${server.url}?prefix=${uniqueName("tls-contract")}`;
      const connections = [await connect(url, { tls: tls() })];
      return {
        subject: pick(connections[0]),
        async peer() {
          const other = await connect(url, { tls: tls() });
          connections.push(other);
          return pick(other);
        },
        async cleanup() {
          await Promise.all(connections.map((c) => c.close()));
        },
      };
    },
  };
}

brokerContract(
  "redis over TLS",
  overTls((c) => c.broker()),
);
resultBackendContract(
  "redis over TLS",
  overTls((c) => c.resultBackend()),
);

describe("stem health over rediss://", () => {
  let ws: ReturnType<typeof workspace>;
  beforeAll(async () => {
    await ensureBinary();
    ws = workspace();
  }, 120_000);
  afterAll(() => ws?.cleanup());

  test("passes with the right CA and client certificate", async () => {
    const r = await stem(ws.dir, ["health", "--json"], {
      STEM_BROKER_URL: server.url,
      ...tlsEnv(certs),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.healthy).toBe(true);
    expect(report.checks.map((c: { store: string }) => c.store)).toEqual(
      expect.arrayContaining(["broker", "backend"]),
    );
  });

  test("fails with exit 1 and a certificate error when the CA is wrong", async () => {
    const r = await stem(ws.dir, ["health", "--json"], {
      STEM_BROKER_URL: server.url,
      ...tlsEnv(certs, certs.otherCaCert),
    });
    expect(r.code).toBe(1);
    const [check] = JSON.parse(r.stdout).checks;
    expect(check.ok).toBe(false);
    expect(check.error).toMatch(/certificate/i);
  });
});
