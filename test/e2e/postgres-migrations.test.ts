import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { openPostgres } from "../../src/adapters/postgres/index.ts";
import { LATEST_VERSION, MIGRATIONS, migrate } from "../../src/adapters/postgres/migrations.ts";
import { StemError } from "../../src/core/errors.ts";
import {
  adminClient,
  dropSchema,
  randomSchema,
  TEST_POSTGRES_URL,
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

  test("a migration that finds the schema created meanwhile tries again in a new transaction", async () => {
    // Behind PgBouncer a migration that waited for another's lock can still miss the schema
    // the other created, and fails creating it again (duplicate_schema or a unique
    // violation on pg_namespace). The first transaction here fails so, as the other commits.
    const schema = fresh();
    const sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
    let attempts = 0;
    const racing = new Proxy(sql, {
      get(target, key, receiver) {
        if (key !== "begin") return Reflect.get(target, key, receiver);
        return async (fn: (tx: postgres.TransactionSql) => Promise<unknown>) => {
          if (++attempts === 1) {
            await openPostgres(TEST_POSTGRES_URL, { schema, max: 1 }).then((c) => c.close());
            throw Object.assign(new Error(`schema "${schema}" already exists`), { code: "42P06" });
          }
          return target.begin(fn);
        };
      },
    });
    try {
      expect(await migrate(racing, schema)).toEqual([]);
      expect(attempts).toBe(2);
      expect(await recordedVersions(schema)).toEqual(MIGRATIONS.map((m) => m.version));
      // Any other error is not retried.
      attempts = 1;
      const other = fresh();
      const failing = new Proxy(sql, {
        get: (target, key, receiver) =>
          key === "begin"
            ? async () => {
                attempts++;
                throw Object.assign(new Error("syntax error"), { code: "42601" });
              }
            : Reflect.get(target, key, receiver),
      });
      await expect(migrate(failing, other)).rejects.toThrow("syntax error");
      expect(attempts).toBe(2);
    } finally {
      await sql.end({ timeout: 5 });
    }
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
