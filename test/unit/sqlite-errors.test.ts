/**
 * What a user sees when the SQLite file cannot be used: a StemError with a code and one
 * line naming the path, never a raw SQLite stack. Permission cases run the opening in a
 * child process as user `nobody` when the tests run as root (root ignores permissions).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { StemError } from "../../src/core/errors.ts";

const FIXTURE = join(import.meta.dir, "../e2e/fixtures/sqlite-open.ts");
const NOBODY = 65534;

/**
 * The child that runs as `nobody` must not depend on where the clone lives (a clone in a
 * 0700 folder is unreadable to it): it runs a copy of Bun and a bundle of the fixture from
 * a world-readable folder of its own, with that folder as its working directory.
 */
const child = { folder: "", bun: "", fixture: "" };
beforeAll(async () => {
  child.folder = mkdtempSync(join(tmpdir(), "stem-sqlite-child-"));
  chmodSync(child.folder, 0o755);
  child.bun = join(child.folder, "bun");
  copyFileSync(process.execPath, child.bun);
  chmodSync(child.bun, 0o755);
  const bundle = await Bun.build({ entrypoints: [FIXTURE], target: "bun", outdir: child.folder });
  if (!bundle.success) throw new AggregateError(bundle.logs, "bundling the fixture failed");
  child.fixture = bundle.outputs[0].path;
  chmodSync(child.fixture, 0o644);
});
afterAll(() => {
  rmSync(child.folder, { recursive: true, force: true });
});

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-errors-"));
  // The permission tests open files here as another user.
  chmodSync(folder, 0o755);
});
afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

async function openError(url: string): Promise<StemError> {
  const result = await openSqlite(url).then(
    async (connection) => {
      await connection.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  if (!(result instanceof StemError))
    throw new Error(`expected a StemError opening ${url}, got ${result}`);
  return result;
}

/** Opens `url` in a child process as an unprivileged user; returns its code and message. */
async function openErrorAsUser(url: string): Promise<{ code: string; message: string }> {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot
    ? [
        "setpriv",
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        "--",
        child.bun,
        child.fixture,
        url,
      ]
    : [child.bun, child.fixture, url];
  const proc = Bun.spawn(command, {
    cwd: child.folder,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, HOME: child.folder },
  });
  const [out, err, exit] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (exit !== 0) throw new Error(`fixture failed (${exit}): ${err}`);
  const result = JSON.parse(out.trim());
  expect(result.ok).toBe(false);
  return result;
}

function expectOneLine(message: string, path: string): void {
  expect(message).toContain(path);
  expect(message).not.toContain("\n");
  expect(message).not.toContain("    at ");
}

describe("SQLite errors users can cause", () => {
  test("a file of random bytes is reported as corrupt", async () => {
    const path = join(folder, "random.db");
    writeFileSync(path, crypto.getRandomValues(new Uint8Array(16_384)));
    const error = await openError(`sqlite://${path}`);
    expect(error.code).toBe("store_corrupt");
    expectOneLine(error.message, path);
    expect(error.message).toContain("not a database");
  });

  test("a database whose pages are damaged is reported as corrupt", async () => {
    const path = join(folder, "damaged.db");
    const connection = await openSqlite(`sqlite://${path}`);
    await connection.broker().publish([buildEnvelope({ name: "t.x" })]);
    await connection.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    // Keep page 1 (header and schema); overwrite every later page with garbage.
    bytes.fill(0xa5, pageSize);
    writeFileSync(path, bytes);
    const error = await openError(`sqlite://${path}`);
    expect(error.code).toBe("store_corrupt");
    expectOneLine(error.message, path);
  });

  test("a folder where the database file should be is refused", async () => {
    const path = join(folder, "is-a-folder.db");
    mkdirSync(path);
    const error = await openError(`sqlite://${path}`);
    expect(error.code).toBe("store_unavailable");
    expectOneLine(error.message, path);
    expect(error.message).toContain("is a folder");
  });

  test("a database under a regular file cannot be created", async () => {
    const file = join(folder, "plain.txt");
    writeFileSync(file, "not a folder");
    const path = join(file, "stem.db");
    const error = await openError(`sqlite://${path}`);
    expect(error.code).toBe("store_unavailable");
    expectOneLine(error.message, path);
  });

  test("a read-only folder: the database cannot be created", async () => {
    const readOnly = join(folder, "read-only");
    mkdirSync(readOnly, { mode: 0o555 });
    chmodSync(readOnly, 0o555);
    const path = join(readOnly, "stem.db");
    const error = await openErrorAsUser(`sqlite://${path}`);
    expect(error.code).toBe("store_unavailable");
    expectOneLine(error.message, path);
    expect(error.message).toContain("permission denied");
  });

  test("a read-only folder: a missing subfolder cannot be created", async () => {
    const readOnly = join(folder, "read-only");
    mkdirSync(readOnly, { mode: 0o555 });
    chmodSync(readOnly, 0o555);
    const path = join(readOnly, "sub", "stem.db");
    const error = await openErrorAsUser(`sqlite://${path}`);
    expect(error.code).toBe("store_unavailable");
    expectOneLine(error.message, path);
    expect(error.message).toContain("EACCES");
  });

  test("an unreadable file is reported as unavailable", async () => {
    const path = join(folder, "unreadable.db");
    await (await openSqlite(`sqlite://${path}`)).close();
    chmodSync(path, 0o000);
    const error = await openErrorAsUser(`sqlite://${path}`);
    expect(error.code).toBe("store_unavailable");
    expectOneLine(error.message, path);
    expect(error.message).toContain("permission denied");
  });

  test("a read-only file is reported as not writable", async () => {
    const path = join(folder, "read-only.db");
    await (await openSqlite(`sqlite://${path}`)).close();
    chmodSync(path, 0o444);
    const error = await openErrorAsUser(`sqlite://${path}`);
    expect(error.code).toBe("store_unavailable");
    expectOneLine(error.message, path);
    expect(error.message).toContain("cannot be written");
  });

  test("a write lock held past the busy timeout is reported as unavailable, naming the file", async () => {
    const path = join(folder, "locked.db");
    const connection = await openSqlite(`sqlite://${path}?busyTimeout=100ms`);
    const holder = new Database(path);
    holder.run("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const error = await connection
        .broker()
        .publish([buildEnvelope({ name: "t.locked" })])
        .catch((e) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(error).toBeInstanceOf(StemError);
      expect(error.code).toBe("store_unavailable");
      expectOneLine(error.message, path);
      expect(error.message).toContain("locked");
    } finally {
      holder.run("ROLLBACK");
      holder.close();
    }
    // Once the lock is gone the same connection works again.
    const result = await connection.broker().publish([buildEnvelope({ name: "t.after" })]);
    expect(result.accepted.length).toBe(1);
    await connection.close();
  });

  test("using a closed connection says it is closed", async () => {
    const path = join(folder, "closed.db");
    const connection = await openSqlite(`sqlite://${path}`);
    const broker = connection.broker();
    await connection.close();
    await connection.close();
    const error = await broker.stats().catch((e) => e);
    expect(error).toBeInstanceOf(StemError);
    expect(error.code).toBe("closed");
    expectOneLine(error.message, path);
  });
});
