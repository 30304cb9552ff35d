import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { StemError } from "../../src/core/errors.ts";
import { openDatabase } from "../../src/adapters/sqlite/database.ts";
import { MIGRATIONS, SCHEMA_VERSION, migrate } from "../../src/adapters/sqlite/migrations.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";

const FIXTURE = join(import.meta.dir, "../e2e/fixtures/sqlite-open.ts");

let folder: string;
let path: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-migrations-"));
  path = join(folder, "nested", "stem.db");
});
afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function migrationRows(file: string): { version: number; applied_at: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .query<{ version: number; applied_at: number }, []>(
        "SELECT * FROM stem_migrations ORDER BY version",
      )
      .all();
  } finally {
    db.close();
  }
}

describe("SQLite schema migrations", () => {
  test("opening a fresh file creates its folder and applies every migration once", async () => {
    const connection = await openSqlite(`sqlite://${path}`);
    await connection.close();
    const rows = migrationRows(path);
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(rows.at(-1)?.version).toBe(SCHEMA_VERSION);
  });

  test("opening again changes nothing", async () => {
    await (await openSqlite(`sqlite://${path}`)).close();
    const before = migrationRows(path);
    await Bun.sleep(5);
    await (await openSqlite(`sqlite://${path}`)).close();
    expect(migrationRows(path)).toEqual(before);
    const db = openDatabase({ kind: "file", path }, { busyTimeoutMs: 1000, clock: systemClock });
    expect(migrate(db)).toEqual([]);
    db.close();
  });

  test("a later migration is applied to an existing file, in order, and only once", () => {
    const db = openDatabase({ kind: "file", path }, { busyTimeoutMs: 1000, clock: systemClock });
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    const next = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        description: "extra table",
        sql: "CREATE TABLE extra_a (x INTEGER)",
      },
      {
        version: SCHEMA_VERSION + 2,
        description: "uses the extra table",
        sql: "CREATE INDEX extra_a_x ON extra_a (x)",
      },
    ];
    expect(migrate(db, next)).toEqual([SCHEMA_VERSION + 1, SCHEMA_VERSION + 2]);
    expect(migrate(db, next)).toEqual([]);
    db.close();
    expect(migrationRows(path).map((r) => r.version)).toEqual(next.map((m) => m.version));
  });

  test("a failing migration leaves the file as it was", () => {
    const db = openDatabase({ kind: "file", path }, { busyTimeoutMs: 1000, clock: systemClock });
    migrate(db);
    const broken = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        description: "fails half way",
        sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
      },
    ];
    expect(() => migrate(db, broken)).toThrow(StemError);
    db.close();
    expect(migrationRows(path).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const raw = new Database(path, { readonly: true });
    expect(raw.query("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeNull();
    raw.close();
  });

  test("a file from a newer Stem is refused, naming the path and both versions", async () => {
    await (await openSqlite(`sqlite://${path}`)).close();
    const raw = new Database(path);
    raw.run("INSERT INTO stem_migrations (version, applied_at) VALUES (?, ?)", [
      SCHEMA_VERSION + 5,
      Date.now(),
    ]);
    raw.close();
    const opening = openSqlite(`sqlite://${path}`);
    await expect(opening).rejects.toBeInstanceOf(StemError);
    const error = (await opening.catch((e) => e)) as StemError;
    expect(error.code).toBe("schema_too_new");
    expect(error.message).toContain(path);
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 5}`);
    expect(error.message).toContain(`(${SCHEMA_VERSION})`);
    expect(error.message).not.toContain("\n");
  });

  test("several processes opening one fresh file at the same moment all succeed and migrate it once", async () => {
    const url = `sqlite://${path}`;
    const startAt = Date.now() + 1500;
    const children = Array.from({ length: 4 }, () =>
      Bun.spawn([process.execPath, FIXTURE, url, String(startAt)], {
        stdout: "pipe",
        stderr: "pipe",
      }),
    );
    const outputs = await Promise.all(
      children.map(async (child) => {
        const [out, err, code] = await Promise.all([
          new Response(child.stdout).text(),
          new Response(child.stderr).text(),
          child.exited,
        ]);
        expect(err).toBe("");
        expect(code).toBe(0);
        return JSON.parse(out.trim());
      }),
    );
    for (const output of outputs)
      expect(output).toEqual({ ok: true, versions: MIGRATIONS.map((m) => m.version) });
    expect(migrationRows(path).length).toBe(MIGRATIONS.length);
  }, 30_000);
});
