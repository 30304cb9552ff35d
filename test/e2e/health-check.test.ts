/**
 * The check behind `stem health` on every adapter: an existing store passes with its
 * schema version (where it has one) and a write/read round trip; a deadline shorter than
 * the work fails even when the work itself succeeds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { LATEST_VERSION } from "../../src/adapters/postgres/index.ts";
import { SCHEMA_VERSION } from "../../src/adapters/sqlite/index.ts";
import { connect } from "../../src/adapters/url.ts";
import { checkStore } from "../../src/app/health.ts";
import {
  TEST_POSTGRES_URL,
  adminClient,
  dropSchema,
  randomSchema,
} from "./fixtures/postgres-test-db.ts";

describe("health checks on every adapter", () => {
  let dir: string;
  let admin: postgres.Sql;
  const schema = randomSchema("stem_health");
  const prefix = `stem-health-${process.pid}-${Date.now()}`;
  let urls: Record<string, { url: string; version?: number }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "stem-health-"));
    admin = await adminClient();
    urls = {
      memory: { url: "memory://" },
      sqlite: { url: `sqlite://${join(dir, "stem.db")}`, version: SCHEMA_VERSION },
      redis: { url: `redis://127.0.0.1:6379?prefix=${prefix}` },
      postgres: { url: `${TEST_POSTGRES_URL}?schema=${schema}`, version: LATEST_VERSION },
    };
    // The stores exist before they are checked (a check never creates one).
    for (const { url } of Object.values(urls)) await (await connect(url)).close();
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(admin, schema);
    await admin.end({ timeout: 1 });
  });

  for (const name of ["memory", "sqlite", "redis", "postgres"]) {
    test(`${name}: a healthy store passes with its schema version`, async () => {
      const { url, version } = urls[name];
      const check = await checkStore("broker", url, 10_000);
      expect(check).toMatchObject({ ok: true, schemaVersion: version });
      expect(check.error).toBeUndefined();
    });

    // Memory answers within 1 ms for real; the others take longer than that.
    if (name === "memory") continue;
    test(`${name}: a 1 ms timeout is a failure, even when the store answers`, async () => {
      const check = await checkStore("broker", urls[name].url, 1);
      expect(check.ok).toBe(false);
      expect(check.error).toContain("did not finish within 1 ms");
    });
  }
});
