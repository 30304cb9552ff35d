import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkSchemaName,
  resolvePostgresOptions,
  resolveSsl,
} from "../../src/adapters/postgres/connection-options.ts";
import { StemError } from "../../src/core/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "stem-pg-tls-"));
const caFile = join(dir, "ca.pem");
const certFile = join(dir, "client.pem");
const keyFile = join(dir, "client.key");
writeFileSync(caFile, "CA PEM");
writeFileSync(certFile, "CERT PEM");
writeFileSync(keyFile, "KEY PEM");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noTls = { tls: {} };

describe("Postgres URL and options", () => {
  test("the schema defaults to stem, comes from ?schema= or options, options first", () => {
    expect(resolvePostgresOptions("postgres://h/db", noTls).schema).toBe("stem");
    expect(resolvePostgresOptions("postgres://h/db?schema=jobs_a", noTls).schema).toBe("jobs_a");
    expect(
      resolvePostgresOptions("postgres://h/db?schema=jobs_a", { ...noTls, schema: "other" }).schema,
    ).toBe("other");
  });

  test("Stem's own and TLS parameters are removed from the URL postgres.js sees; others stay", () => {
    const resolved = resolvePostgresOptions(
      "postgresql://u:secret@h:5433/db?schema=s1&max=3&resultTtl=1h&application_name=app&sslmode=disable",
      noTls,
    );
    expect(resolved.clientUrl).toBe("postgresql://u:secret@h:5433/db?application_name=app");
    expect(resolved.displayUrl).not.toContain("secret");
    expect(resolved.max).toBe(3);
    expect(resolved.resultTtlMs).toBe(3_600_000);
    expect(resolved.ssl).toBe(false);
  });

  test("resultTtlMs and max from options win over the URL", () => {
    const resolved = resolvePostgresOptions("postgres://h/db?max=3&resultTtlMs=5000", {
      ...noTls,
      max: 2,
      resultTtlMs: 10,
    });
    expect(resolved).toMatchObject({ max: 2, resultTtlMs: 10 });
    expect(resolvePostgresOptions("postgres://h/db?resultTtlMs=5000", noTls).resultTtlMs).toBe(
      5000,
    );
  });

  test("bad schema names, pool sizes and schemes are refused with a clear StemError", () => {
    for (const bad of ["1abc", "has-dash", 'quo"te', "a".repeat(49), ""]) {
      expect(() => checkSchemaName(bad)).toThrow(StemError);
    }
    expect(() => resolvePostgresOptions("postgres://h/db?schema=bad-name", noTls)).toThrow(
      /invalid Postgres schema "bad-name"/,
    );
    expect(() => resolvePostgresOptions("postgres://h/db?max=0", noTls)).toThrow(
      /max in the Postgres URL/,
    );
    expect(() => resolvePostgresOptions("redis://h/0", noTls)).toThrow(/not a Postgres URL/);
  });

  test("sslmode maps to postgres.js TLS settings with certificate files read", () => {
    expect(resolveSsl(null, {})).toBe(false);
    expect(resolveSsl("disable", {})).toBe(false);
    expect(resolveSsl("prefer", {})).toBe("prefer");
    expect(resolveSsl("require", {})).toEqual({ rejectUnauthorized: false });
    expect(resolveSsl("require", { caCertFile: caFile })).toEqual({
      ca: "CA PEM",
      rejectUnauthorized: true,
    });
    const verifyCa = resolveSsl("verify-ca", { caCertFile: caFile });
    expect(verifyCa).toMatchObject({ ca: "CA PEM", rejectUnauthorized: true });
    expect(typeof (verifyCa as { checkServerIdentity?: unknown }).checkServerIdentity).toBe(
      "function",
    );
    expect(
      resolveSsl("verify-full", {
        caCertFile: caFile,
        clientCertFile: certFile,
        clientKeyFile: keyFile,
        allowInsecure: true,
      }),
    ).toEqual({ ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM", rejectUnauthorized: false });
    expect(() => resolveSsl("sometimes", {})).toThrow(/unsupported sslmode "sometimes"/);
  });

  test("sslrootcert, sslcert and sslkey in the URL name the TLS files", () => {
    const resolved = resolvePostgresOptions(
      `postgres://h/db?sslmode=verify-full&sslrootcert=${caFile}&sslcert=${certFile}&sslkey=${keyFile}`,
      noTls,
    );
    expect(resolved.ssl).toEqual({
      ca: "CA PEM",
      cert: "CERT PEM",
      key: "KEY PEM",
      rejectUnauthorized: true,
    });
    expect(resolved.clientUrl).toBe("postgres://h/db");
  });

  test("a missing certificate file is named in the error", () => {
    expect(() => resolveSsl("verify-full", { caCertFile: join(dir, "missing.pem") })).toThrow(
      /cannot read TLS CA certificate/,
    );
  });

  test("without pgbouncer, LISTEN uses the query URL and prepared statements stay on", () => {
    const resolved = resolvePostgresOptions("postgres://h/db?application_name=a", noTls);
    expect(resolved.pgbouncer).toBe(false);
    expect(resolved.listen).toEqual({
      clientUrl: "postgres://h/db?application_name=a",
      ssl: false,
    });
  });

  test("pgbouncer=true alone: no LISTEN connection (polling), parameters stripped", () => {
    const resolved = resolvePostgresOptions("postgres://h:6432/db?pgbouncer=true&schema=s", noTls);
    expect(resolved).toMatchObject({ pgbouncer: true, listen: null });
    expect(resolved.clientUrl).toBe("postgres://h:6432/db");
    expect(resolvePostgresOptions("postgres://h/db?pgbouncer=false", noTls).pgbouncer).toBe(false);
    expect(resolvePostgresOptions("postgres://h/db", { ...noTls, pgbouncer: true }).listen).toBe(
      null,
    );
  });

  test("listen= names the direct URL LISTEN uses, with its own TLS; its password is hidden", () => {
    const direct = "postgres://u:hidden@db-direct:5432/db?sslmode=require";
    const resolved = resolvePostgresOptions(
      `postgres://u:secret@bouncer:6432/db?pgbouncer=true&listen=${encodeURIComponent(direct)}`,
      noTls,
    );
    expect(resolved.clientUrl).toBe("postgres://u:secret@bouncer:6432/db");
    expect(resolved.ssl).toBe(false);
    expect(resolved.listen).toEqual({
      clientUrl: "postgres://u:hidden@db-direct:5432/db",
      ssl: { rejectUnauthorized: false },
    });
    expect(resolved.displayUrl).not.toContain("secret");
    expect(resolved.displayUrl).not.toContain("hidden");
    expect(resolved.displayUrl).toContain("listen=postgres://u:***@db-direct:5432/db");
  });

  test("a bad pgbouncer value, or listen without pgbouncer, is refused with a clear error", () => {
    expect(() => resolvePostgresOptions("postgres://h/db?pgbouncer=yes", noTls)).toThrow(
      /pgbouncer in the Postgres URL: expected true or false, got "yes"/,
    );
    expect(() => resolvePostgresOptions("postgres://h/db?listen=postgres://d/db", noTls)).toThrow(
      /listen in the Postgres URL is for PgBouncer: add pgbouncer=true/,
    );
    expect(() =>
      resolvePostgresOptions("postgres://h/db?pgbouncer=true&listen=redis://d", noTls),
    ).toThrow(/not a Postgres URL/);
  });
});
