/**
 * The installable package, used where services are: `npm pack` builds it, a fresh Node
 * project installs the tarball (no access to this repository's sources), type-checks a
 * consumer against its declarations with `tsc --strict`, and runs it with `node`. The
 * consumer enqueues a typed task on Redis and on Postgres; `stem worker` from the built
 * binary runs them; the Node script reads the results and the tasks' event stream. examples/web-app/server.mjs, run
 * by node in that project, enqueues over HTTP and answers with the result.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { collectText, ensureBinary, runIn, startStem } from "../cli/binary.ts";
import { eventually } from "../../src/testing/harness.ts";
import { openTestStore, type TestStore } from "./fixtures/test-stores.ts";

const ROOT = resolve(import.meta.dir, "../..");
const TSC = join(ROOT, "node_modules/.bin/tsc");
const TSC_FLAGS = ["--strict", "--module", "nodenext", "--moduleResolution", "nodenext"];

const CONSUMER = `import { StemClient, defineTask, type TaskEventState, type TaskResult } from "stem/client";
import { urls } from "./config.js";

const add = defineTask<{ a: number; b: number }, number>({
  name: "pkg.add",
  run: (_ctx, { a, b }) => a + b,
});

for (const url of urls) {
  const client = await StemClient.fromUrl(url, { tasks: [add] });
  const stream = client.events({ name: "pkg.add" });
  await stream.ready;
  const id = await add.enqueue(client, { a: 2, b: 3 });
  const result: TaskResult<number> = await client.waitForTask<number>(id, { timeout: 30_000 });
  // Events from different processes (this producer, the worker) arrive in no set order.
  const seen = new Set<TaskEventState>();
  for await (const event of stream) {
    if (event.taskId !== id) continue;
    seen.add(event.state);
    if (seen.has("queued") && seen.has("succeeded")) break;
  }
  const events = [...seen].sort();
  console.log(
    JSON.stringify({ store: url.split(":")[0], state: result.state, value: result.value, events }),
  );
  await client.close();
}
`;

/** Wrong argument types must not type-check: the declarations carry the task's types. */
const MISTYPED = `import { StemClient, defineTask } from "stem/client";
const add = defineTask<{ a: number; b: number }, number>({ name: "pkg.add", run: (_c, { a, b }) => a + b });
const client = await StemClient.fromUrl("redis://127.0.0.1:6379");
await add.enqueue(client, { a: "two", b: 3 });
`;

const WORKER_TASKS = `import { defineTask } from "stem";
export const add = defineTask<{ a: number; b: number }, number>({
  name: "pkg.add",
  run: (_ctx, { a, b }) => a + b,
});
`;

let dir: string;
let stores: TestStore[] = [];

async function run(command: string[], cwd: string, timeoutMs = 180_000) {
  const result = await runIn(cwd, command, {}, timeoutMs);
  if (result.code !== 0)
    throw new Error(
      `${command.join(" ")} exited ${result.code}:\n${result.stdout}${result.stderr}`,
    );
  return result;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stem-package-"));
  const app = join(dir, "app");
  mkdirSync(app);
  await Promise.all([
    ensureBinary(),
    run(["npm", "pack", "--pack-destination", dir], ROOT, 240_000),
  ]);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball in ${dir}`);
  writeFileSync(
    join(app, "package.json"),
    '{ "name": "consumer", "private": true, "type": "module" }',
  );
  await run(
    ["npm", "install", "--no-audit", "--no-fund", join(dir, tarball), "@types/node@20"],
    app,
  );
  stores = [await openTestStore("redis", "pkg"), await openTestStore("postgres", "pkg")];
  writeFileSync(
    join(app, "config.ts"),
    `export const urls = ${JSON.stringify(stores.map((s) => s.url))};\n`,
  );
  writeFileSync(join(app, "consumer.ts"), CONSUMER);
  writeFileSync(join(app, "mistyped.ts"), MISTYPED);
  writeFileSync(join(app, "worker-tasks.ts"), WORKER_TASKS);
  for (const file of ["server.mjs", "tasks.ts"])
    copyFileSync(join(ROOT, "examples/web-app", file), join(app, `web-app-${file}`));
}, 400_000);

afterAll(async () => {
  for (const store of stores) await store.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the npm package on Node", () => {
  test("a consumer type-checks against the declarations, and wrong argument types do not", async () => {
    const app = join(dir, "app");
    await run(
      [TSC, ...TSC_FLAGS, "--target", "es2022", "--outDir", "out", "consumer.ts", "config.ts"],
      app,
    );
    const mistyped = await runIn(app, [
      TSC,
      ...TSC_FLAGS,
      "--target",
      "es2022",
      "--noEmit",
      "mistyped.ts",
    ]);
    expect(mistyped.code).not.toBe(0);
    expect(mistyped.stdout).toContain("Type 'string' is not assignable to type 'number'");
  }, 120_000);

  test("node runs the consumer: typed tasks enqueued on Redis and Postgres are run by stem worker", async () => {
    const app = join(dir, "app");
    const workers = await Promise.all(
      stores.map((store) =>
        startStem(app, ["worker", "--tasks", "./worker-tasks.ts"], { STEM_BROKER_URL: store.url }),
      ),
    );
    try {
      const result = await run(["node", "out/consumer.js"], app, 60_000);
      const lines = result.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(lines).toEqual([
        {
          store: "redis",
          state: "succeeded",
          value: 5,
          events: ["queued", "started", "succeeded"],
        },
        {
          store: "postgres",
          state: "succeeded",
          value: 5,
          events: ["queued", "started", "succeeded"],
        },
      ]);
    } finally {
      for (const worker of workers) worker.proc.kill("SIGTERM");
      await Promise.all(workers.map((w) => w.proc.exited));
    }
  }, 120_000);

  test("examples/web-app on node: POST enqueues, GET ?wait answers with the worker's result", async () => {
    const app = join(dir, "app");
    const env = { STEM_BROKER_URL: stores[0].url };
    const worker = await startStem(app, ["worker", "--tasks", "./web-app-tasks.ts"], env);
    const server = Bun.spawn(["node", "web-app-server.mjs"], {
      cwd: app,
      env: { ...process.env, ...env, PORT: "0" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = collectText(server.stdout as ReadableStream<Uint8Array>);
    try {
      await eventually(() => output().includes("listening on"), 20_000, "the web app listening");
      const base = /listening on (http:\/\/[\d.:]+)/.exec(output())?.[1];
      const posted = await fetch(`${base}/reports`, {
        method: "POST",
        body: JSON.stringify({ customer: "acme" }),
      });
      expect(posted.status).toBe(202);
      const { id } = (await posted.json()) as { id: string };
      const answer = await fetch(`${base}/reports/${id}?wait=20s`);
      expect(await answer.json()).toEqual({
        id,
        state: "succeeded",
        result: { customer: "acme", rows: 400 },
      });
      expect((await fetch(`${base}/reports`, { method: "POST", body: "{}" })).status).toBe(400);
    } finally {
      server.kill("SIGTERM");
      worker.proc.kill("SIGTERM");
      await Promise.all([server.exited, worker.proc.exited]);
    }
  }, 120_000);
});
