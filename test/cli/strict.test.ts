/**
 * Mistakes are errors, never silence: typos in flags and commands, read commands in a
 * folder without a store, stores that vanish with the process, and a damaged database,
 * each driven through the built binary from a folder with nothing but the files given.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { SCHEMA_VERSION } from "../../src/adapters/sqlite/migrations.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { ensureBinary, stem, TASKS_TS, workspace } from "./binary.ts";

const TICK = `- id: tick
  task: demo.hello
  schedule: "every:1m"
`;

describe("stem refuses mistakes", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS, "tick.yaml": TICK });
  }, 120_000);

  afterAll(() => ws?.cleanup());

  test("an unknown or mistyped flag exits 2 naming it and the nearest one; nothing is enqueued", async () => {
    for (const [args, message] of [
      [["enqueue", "demo.hello", "--arg", "{}"], "unknown option --arg; did you mean --args?"],
      [
        ["enqueue", "demo.hello", "--qeueu", "emails"],
        "unknown option --qeueu; did you mean --queue?",
      ],
      [["health", "--jason"], "unknown option --jason; did you mean --json?"],
      [["worker", "ping", "--timout", "1s"], "unknown option --timout; did you mean --timeout?"],
      [["dlq", "list", "--frobnicate"], "unknown option --frobnicate (see stem dlq list --help)"],
      [
        ["enqueue", "demo.hello", '{"name":"x"}'],
        'unexpected argument "{"name":"x"}" for stem enqueue',
      ],
      [["dlq", "list", "--limit"], "--limit needs a value"],
    ] as [string[], string][]) {
      const r = await stem(ws.dir, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.trim()).toStartWith(`stem: ${message}`);
    }
    // Refused before anything was opened: no store was created by those enqueues.
    expect(existsSync(join(ws.dir, ".stem"))).toBe(false);
  });

  test("an unknown command suggests the nearest; help and version are words too", async () => {
    const typo = await stem(ws.dir, ["wokrer"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr.trim()).toBe(
      'stem: unknown command "wokrer" for stem; did you mean worker?',
    );
    const sub = await stem(ws.dir, ["dlq", "lsit"]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('unknown command "lsit" for stem dlq; did you mean list?');
    const group = await stem(ws.dir, ["dlq"]);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain("stem dlq needs a command: list, show");
    const help = await stem(ws.dir, ["help", "dlq", "list"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("List dead letters");
    expect(help.stdout).toBe((await stem(ws.dir, ["dlq", "list", "--help"])).stdout);
    expect((await stem(ws.dir, ["help", "wokrer"])).code).toBe(2);
    const version = await stem(ws.dir, ["version"]);
    expect(version.stdout).toBe((await stem(ws.dir, ["--version"])).stdout);
  });

  test("read commands in a folder without a store say so, exit 1 and create nothing", async () => {
    const reads = [
      ["dlq", "list"],
      ["observe", "queues"],
      ["observe", "workers"],
      ["observe", "schedules"],
      ["result", "0195d2f0-0000-7000-8000-000000000000"],
      ["schedule", "list"],
      ["wf", "list"],
      ["worker", "ping"],
    ];
    for (const args of reads) {
      const r = await stem(ws.dir, args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain(`no Stem store exists at ${join(ws.dir, ".stem/stem.db")}`);
      expect(r.stderr).toContain("--broker URL (or STEM_BROKER_URL");
    }
    const health = await stem(ws.dir, ["health", "--json"]);
    expect(health.code).toBe(1);
    expect(JSON.parse(health.stdout).checks[0].error).toContain("no Stem store exists");
    const elsewhere = await stem(ws.dir, ["health", "--broker", "sqlite:///nonexistent/dir/x.db"]);
    expect(elsewhere.code).toBe(1);
    expect(existsSync("/nonexistent")).toBe(false);
    expect(existsSync(join(ws.dir, ".stem"))).toBe(false);
    const help = await stem(ws.dir, ["dlq", "list", "--help"]);
    expect(help.stdout).toContain(
      "default sqlite://./.stem/stem.db, relative to the current folder",
    );
  });

  test("a store that lives only in this process is refused where the effect must outlive it", async () => {
    for (const args of [
      ["enqueue", "demo.hello", "--broker", "memory://"],
      ["wf", "start", "flow", "--broker", "sqlite::memory:"],
      ["schedule", "apply", "tick.yaml", "--schedule-store", "memory://"],
    ]) {
      const r = await stem(ws.dir, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain("lives only in this process");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  test("health reports a damaged page, and a timeout shorter than the checks", async () => {
    const dir = workspace();
    try {
      const good = join(dir.dir, "good.db");
      const connection = await openSqlite(`sqlite://${good}`);
      await connection
        .broker()
        .publish(
          Array.from({ length: 2000 }, (_, i) =>
            buildEnvelope({ name: "demo", args: { i, pad: "x".repeat(200) } }),
          ),
        );
      await connection.close();
      const ok = await stem(dir.dir, ["health", "--broker", "sqlite://./good.db", "--json"]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).checks[0]).toMatchObject({
        ok: true,
        schemaVersion: SCHEMA_VERSION,
      });

      const bad = join(dir.dir, "bad.db");
      await Bun.write(bad, Bun.file(good));
      const fd = openSync(bad, "r+");
      const middle = Math.floor(statSync(bad).size / 2 / 4096) * 4096 + 100;
      writeSync(fd, Buffer.alloc(512, 0xab), 0, 512, middle);
      closeSync(fd);
      const damaged = await stem(dir.dir, ["health", "--broker", "sqlite://./bad.db", "--json"]);
      expect(damaged.code).toBe(1);
      const check = JSON.parse(damaged.stdout).checks[0];
      expect(check.ok).toBe(false);
      expect(check.error).toContain(`SQLite database ${bad} is damaged`);

      const late = await stem(dir.dir, [
        "health",
        "--broker",
        "sqlite://./good.db",
        "--timeout",
        "1ms",
        "--json",
      ]);
      expect(late.code).toBe(1);
      expect(JSON.parse(late.stdout).checks[0].error).toContain("did not finish within 1 ms");
    } finally {
      dir.cleanup();
    }
  });

  test("a syntax or runtime error in a tasks file names file, line and column in a few lines; exit 2", async () => {
    const dir = workspace({
      "good.ts": TASKS_TS,
      "syntax.ts": `import { defineTask } from "stem";\n\nexport const a = defineTask({\n  name: "a",\n  run: () => { return 1 +; },\n});\n`,
      "throws.ts": `import { defineTask } from "stem";\nconst o: any = undefined;\nexport const a = defineTask({ name: o.name, run: () => 1 });\n`,
      "twice.ts": `import { defineTask } from "stem";\nexport const a = defineTask({ name: "x", run: () => 1 });\nexport const b = defineTask({ name: "x", run: () => 2 });\nexport default [a];\n`,
    });
    try {
      const syntax = await stem(dir.dir, ["worker", "--tasks", "./syntax.ts"]);
      expect(syntax.code).toBe(2);
      expect(syntax.stderr).toBe(
        "stem: cannot load tasks file ./syntax.ts: ./syntax.ts:5:26: Unexpected ;\n" +
          "    run: () => { return 1 +; },\n" +
          `  ${" ".repeat(25)}^\n`,
      );
      const thrown = await stem(dir.dir, ["tasks", "ls", "--tasks", "./throws.ts"]);
      expect(thrown.code).toBe(2);
      expect(thrown.stderr.trim()).toStartWith(
        "stem: cannot load tasks file ./throws.ts: ./throws.ts:3:",
      );
      expect(thrown.stderr).toContain("TypeError");
      expect(thrown.stderr.trim().split("\n")).toHaveLength(1);
      const unknown = await stem(dir.dir, ["enqueue", "demo.nope", "--tasks", "./good.ts"]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("demo.nope");
      const twice = await stem(dir.dir, ["worker", "--tasks", "./twice.ts"]);
      expect(twice.code).toBe(2);
      expect(twice.stderr.trim()).toBe(
        'stem: tasks file ./twice.ts: two tasks are named "x": exports default[0] and b (task names must be unique)',
      );
    } finally {
      dir.cleanup();
    }
  });
});
