import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { openPostgres } from "../../src/adapters/postgres/index.ts";
import { LATEST_VERSION, MIGRATIONS, migrate } from "../../src/adapters/postgres/migrations.ts";
import { StemError } from "../../src/core/errors.ts";
import {
  TEST_POSTGRES_URL,
  adminClient,
  dropSchema,
  randomSchema,
} from "./fixtures/postgres-test-db.ts";

let admin: postgres.Sql;
const schemas: string[] = [];
const fresh = () => {
  const schema = randomSchema("stem_mig");
  schemas.push(schema);
  return schema;
};

beforeAll(async () => {
  admin = await adminClient();
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end({ timeout: 5 });
});

async function recordedVersions(schema: string): Promise<number[]> {
  const rows = await admin.unsafe(`SELECT version FROM "${schema}".migrations ORDER BY version`);
  return rows.map((r) => r.version as number);
}

describe("Postgres migrations", () => {
  test("processes and connections migrating a fresh schema at once apply each migration exactly once", async () => {
    const schema = fresh();
    const startAt = Date.now() + 1500;
    const script = join(import.meta.dir, "fixtures", "postgres-migrate-race.ts");
    const children = [0, 1].map(() =>
      Bun.spawn([process.execPath, script, TEST_POSTGRES_URL, schema, String(startAt)], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    );
    const local = [0, 1].map(async () => {
      const sql = postgres(TEST_POSTGRES_URL, { max: 2, onnotice: () => {} });
      try {
        await sql`SELECT 1`;
        await Bun.sleep(Math.max(0, startAt - Date.now()));
        return await migrate(sql, schema);
      } finally {
        await sql.end({ timeout: 5 });
      }
    });
    const connecting = (async () => {
      await Bun.sleep(Math.max(0, startAt - Date.now()));
      const connection = await openPostgres(TEST_POSTGRES_URL, { schema, max: 2 });
      await connection.ping();
      await connection.close();
    })();

    const fromChildren = await Promise.all(
      children.map(async (child) => {
        const [out, err, code] = await Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
          child.exited,
        ]);
        if (code !== 0) throw new Error(`migration child failed (${code}): ${err}`);
        return JSON.parse(out.trim().split("\n").pop()!).applied as number[];
      }),
    );
    const fromLocal = await Promise.all(local);
    await connecting;

    const applied = [...fromChildren, ...fromLocal].flat().sort((a, b) => a - b);
    // openPostgres may have applied them too; whatever the racers applied, none twice.
    expect(new Set(applied).size).toBe(applied.length);
    expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  test("migrating an up-to-date schema changes nothing", async () => {
    const schema = fresh();
    const connection = await openPostgres(TEST_POSTGRES_URL, { schema, max: 2 });
    try {
      expect(await migrate(connection.sql, schema)).toEqual([]);
      expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await connection.close();
    }
  });

  test("a schema migrated by a newer Stem is refused with schema_too_new", async () => {
    const schema = fresh();
    const first = await openPostgres(TEST_POSTGRES_URL, { schema, max: 2 });
    await first.close();
    await admin.unsafe(
      `INSERT INTO "${schema}".migrations (version, name) VALUES (${LATEST_VERSION + 1}, 'future')`,
    );
    const error = await openPostgres(TEST_POSTGRES_URL, { schema, max: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(StemError);
    expect(error.code).toBe("schema_too_new");
    expect(error.message).toContain(schema);
  });

  test("an unreachable server fails the open with store_unavailable naming the URL", async () => {
    const error = await openPostgres("postgres://postgres:hunter2@127.0.0.1:1/test", {
      schema: fresh(),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(StemError);
    expect(error.code).toBe("store_unavailable");
    expect(error.message).toContain("127.0.0.1:1");
    expect(error.message).not.toContain("hunter2");
  });
});
