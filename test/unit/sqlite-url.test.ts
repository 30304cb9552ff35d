import { describe, expect, test } from "bun:test";
import { homedir } from "node:os";
import { parseSqliteUrl } from "../../src/adapters/sqlite/url.ts";
import { StemError } from "../../src/core/errors.ts";

const cwd = "/srv/app";

describe("SQLite URLs", () => {
  test("a relative path resolves against the working folder", () => {
    expect(parseSqliteUrl("sqlite://./.stem/stem.db", cwd).target).toEqual({
      kind: "file",
      path: "/srv/app/.stem/stem.db",
    });
    expect(parseSqliteUrl("sqlite://data/stem.db", cwd).target).toEqual({
      kind: "file",
      path: "/srv/app/data/stem.db",
    });
  });

  test("three slashes make an absolute path", () => {
    expect(parseSqliteUrl("sqlite:///tmp/x.db", cwd).target).toEqual({
      kind: "file",
      path: "/tmp/x.db",
    });
  });

  test("~ means the home folder and escapes are decoded", () => {
    expect(parseSqliteUrl("sqlite://~/stem.db", cwd).target).toEqual({
      kind: "file",
      path: `${homedir()}/stem.db`,
    });
    expect(parseSqliteUrl("sqlite:///tmp/my%20db.db", cwd).target).toEqual({
      kind: "file",
      path: "/tmp/my db.db",
    });
  });

  test("both in-memory spellings are accepted", () => {
    expect(parseSqliteUrl("sqlite::memory:").target).toEqual({ kind: "memory" });
    expect(parseSqliteUrl("sqlite://:memory:").target).toEqual({ kind: "memory" });
  });

  test("query parameters set the result ttl and busy timeout", () => {
    const parsed = parseSqliteUrl("sqlite:///tmp/x.db?resultTtl=2h&busyTimeoutMs=250", cwd);
    expect(parsed).toEqual({
      target: { kind: "file", path: "/tmp/x.db" },
      resultTtlMs: 7_200_000,
      busyTimeoutMs: 250,
    });
    expect(parseSqliteUrl("sqlite::memory:?resultTtlMs=1000").resultTtlMs).toBe(1000);
  });

  test("an empty path, an unknown parameter or a bad duration is refused with the URL named", () => {
    const refused = (url: string) => {
      try {
        parseSqliteUrl(url, cwd);
      } catch (error) {
        expect(error).toBeInstanceOf(StemError);
        return error as StemError;
      }
      throw new Error(`accepted ${url}`);
    };
    const empty = refused("sqlite://");
    expect(empty.code).toBe("unsupported_url");
    expect(empty.message).toContain('"sqlite://"');
    const unknown = refused("sqlite:///tmp/x.db?prefix=app");
    expect(unknown.code).toBe("invalid_argument");
    expect(unknown.message).toContain('unknown parameter "prefix"');
    expect(unknown.message).toContain("sqlite:///tmp/x.db?prefix=app");
    expect(refused("sqlite:///tmp/x.db?resultTtl=soon").message).toContain("resultTtl");
    expect(refused("redis://localhost").code).toBe("unsupported_url");
  });
});
