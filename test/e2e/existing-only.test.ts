/**
 * `existingOnly` connections (what read-only commands open): a store that does not exist
 * is reported, and nothing is created — on SQLite (no file, no folder) and Postgres (no
 * schema). Memory and Redis create nothing on open, so they have nothing to refuse.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { connect } from "../../src/adapters/url.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { StoreMissingError } from "../../src/core/errors.ts";
import {
  TEST_POSTGRES_URL,
  adminClient,
  dropSchema,
  randomSchema,
} from "./fixtures/postgres-test-db.ts";

describe("existingOnly on SQLite", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stem-existing-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a missing file (and folder) is StoreMissingError naming the path; nothing is created", async () => {
    const path = join(dir, "missing/dir/stem.db");
    const opening = connect(`sqlite://${path}`, { existingOnly: true });
    await expect(opening).rejects.toBeInstanceOf(StoreMissingError);
    await expect(opening).rejects.toThrow(`no Stem store exists at ${path}`);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });

  test("a file without Stem's tables is refused and left as it was", async () => {
    const path = join(dir, "empty.db");
    writeFileSync(path, "");
    await expect(connect(`sqlite://${path}`, { existingOnly: true })).rejects.toThrow(
      "has no Stem tables",
    );
    expect(Bun.file(path).size).toBe(0);
  });

  test("a store that exists opens and reads", async () => {
    const url = `sqlite://${join(dir, "real.db")}`;
    const writer = await connect(url);
    await writer.broker().publish([buildEnvelope({ name: "demo" })]);
    await writer.close();
    const reader = await connect(url, { existingOnly: true });
    expect((await reader.broker().stats(["default"]))[0].pending).toBe(1);
    await reader.close();
  });
});

describe("existingOnly on Postgres", () => {
  let admin: postgres.Sql;
  const schema = randomSchema("stem_exist");
  beforeAll(async () => {
    admin = await adminClient();
  });
  afterAll(async () => {
    await dropSchema(admin, schema);
    await admin.end({ timeout: 1 });
  });

  const schemaExists = async () =>
    (await admin`SELECT 1 FROM information_schema.schemata WHERE schema_name = ${schema}`).length >
    0;

  test("a missing schema is StoreMissingError naming it; no schema is created", async () => {
    const opening = connect(`${TEST_POSTGRES_URL}?schema=${schema}`, { existingOnly: true });
    await expect(opening).rejects.toBeInstanceOf(StoreMissingError);
    await expect(opening).rejects.toThrow(`schema "${schema}"`);
    expect(await schemaExists()).toBe(false);
  });

  test("once a writer made the schema, a reader opens it", async () => {
    await (await connect(`${TEST_POSTGRES_URL}?schema=${schema}`)).close();
    const reader = await connect(`${TEST_POSTGRES_URL}?schema=${schema}`, { existingOnly: true });
    await reader.ping();
    await reader.close();
  });
});
