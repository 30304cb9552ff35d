/**
 * Postgres over TLS for real: a throwaway cluster that accepts only TLS connections with
 * a client certificate (certificates made by openssl for this run), and Stem connecting
 * with `sslmode` and the STEM_TLS_* settings — in process and through the `stem` binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "../../src/adapters/url.ts";
import { defineTask, StemClient, StemError } from "../../src/index.ts";
import { tlsOptionsFromEnv } from "../../src/security/tls.ts";
import { uniqueName } from "../../src/testing/harness.ts";
import { ensureBinary, stem, workspace } from "../cli/binary.ts";
import {
  connectFailure,
  expectStoreRoundTrip,
  makeTestCertificates,
  type TestCertificates,
  tlsEnv,
} from "./fixtures/tls-certs.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./fixtures/private-postgres.ts";

let certs: TestCertificates;
let server: PrivatePostgres;

beforeAll(async () => {
  certs = await makeTestCertificates();
  server = await startPrivatePostgres(certs);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  certs?.cleanup();
});

/** The STEM_TLS_* variables trusting `ca` (default: the test CA). */
const env = (ca?: string) => tlsEnv(certs, ca);

const schema = () =>
  uniqueName("tls")
    .replace(/[^A-Za-z0-9_]/g, "_")
    .slice(0, 40);

const failureOf = (url: string, variables: Record<string, string>) =>
  connectFailure(url, tlsOptionsFromEnv(variables));

describe("postgres:// with sslmode and STEM_TLS_* certificates", () => {
  test("sslmode=verify-full: publish, fetch and ack, and result set and get over TLS", async () => {
    const connection = await connect(`${server.url}?sslmode=verify-full&schema=${schema()}`, {
      tls: tlsOptionsFromEnv(env()),
    });
    try {
      await expectStoreRoundTrip(connection, 7);
    } finally {
      await connection.close();
    }
  });

  test("a client and a worker run a task end to end (certificate files named in the URL)", async () => {
    const task = defineTask({ name: "tls.pg.hello", run: () => "over tls" });
    const url = `${server.url}?sslmode=verify-full&sslrootcert=${certs.caCert}&sslcert=${certs.clientCert}&sslkey=${certs.clientKey}&schema=${schema()}`;
    const client = await StemClient.fromUrl(url, { tasks: [task], connectOptions: { tls: {} } });
    try {
      await client.createWorker().start();
      const id = await client.enqueue("tls.pg.hello", {});
      expect(await client.waitForTask(id, { timeout: "15s" })).toMatchObject({
        state: "succeeded",
        value: "over tls",
      });
    } finally {
      await client.close();
    }
  });

  test("the server accepts nothing but TLS: sslmode=disable is refused", async () => {
    const failure = await failureOf(`${server.url}?sslmode=disable`, env());
    expect(failure).toBeInstanceOf(StemError);
    expect(failure?.message).toMatch(/pg_hba\.conf|no encryption/);
  });

  test("a server certificate from another CA is refused with a certificate error", async () => {
    const failure = await failureOf(`${server.url}?sslmode=verify-full`, env(certs.otherCaCert));
    expect(failure).toBeInstanceOf(StemError);
    expect(failure?.message).toMatch(/certificate/i);
  });

  test("without a client certificate the server refuses the connection", async () => {
    const failure = await failureOf(`${server.url}?sslmode=verify-full`, {
      STEM_TLS_CA_CERT: certs.caCert,
    });
    expect(failure).toBeInstanceOf(StemError);
    expect(failure?.message).toMatch(/certificate/i);
  });

  test("sslmode=require encrypts without checking the server certificate", async () => {
    const env = { STEM_TLS_CLIENT_CERT: certs.clientCert, STEM_TLS_CLIENT_KEY: certs.clientKey };
    const connection = await connect(`${server.url}?sslmode=require`, {
      tls: tlsOptionsFromEnv(env),
    });
    await connection.ping();
    await connection.close();
  });
});

describe("stem health over postgres:// with sslmode", () => {
  let ws: ReturnType<typeof workspace>;
  beforeAll(async () => {
    await ensureBinary();
    ws = workspace();
  }, 120_000);
  afterAll(() => ws?.cleanup());

  test("passes with the right CA and client certificate", async () => {
    const url = `${server.url}?sslmode=verify-full&schema=${schema()}`;
    // health never creates a store: make the schema first, as a worker would.
    await (await connect(url, { tls: tlsOptionsFromEnv(env()) })).close();
    const r = await stem(ws.dir, ["health", "--json"], { STEM_BROKER_URL: url, ...env() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).healthy).toBe(true);
  });

  test("fails with exit 1 and a certificate error when the CA is wrong", async () => {
    const url = `${server.url}?sslmode=verify-full&schema=${schema()}`;
    const r = await stem(ws.dir, ["health", "--json"], {
      STEM_BROKER_URL: url,
      ...env(certs.otherCaCert),
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).checks[0].ok).toBe(false);
    expect(r.stdout).toMatch(/certificate/i);
  });
});
