/**
 * `stem enqueue --link` / `--link-error` through the built binary: a worker starts the
 * success callback with the result and the error callback with the failure, `stem result`
 * shows the ids of the callbacks started, and malformed flags are usage errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, startStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const charge = defineTask<{ cents: number }>({
  name: "demo.charge",
  run: (_ctx, { cents }) => ({ charged: cents }),
});

export const declined = defineTask({
  name: "demo.declined",
  run: () => {
    throw new TypeError("card declined");
  },
});

export const echo = defineTask({
  name: "demo.echo",
  run: (ctx) => ({ args: ctx.args, previous: ctx.previousResult ?? null }),
});
`;

describe("stem enqueue --link / --link-error", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: Awaited<ReturnType<typeof startStem>> | undefined;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS });
    worker = await startStem(ws.dir, ["worker", "--tasks", "./tasks.ts"]);
  }, 60_000);

  afterAll(() => {
    worker?.proc.kill("SIGKILL");
    ws?.cleanup();
  });

  /** `stem result ID --json` once the task has finished. */
  async function finished(id: string): Promise<Record<string, unknown>> {
    let status: Record<string, unknown> = {};
    await eventually(
      async () => {
        const r = await stem(ws.dir, ["result", id, "--json"]);
        if (r.code !== 0) return false;
        status = JSON.parse(r.stdout);
        return ["succeeded", "failed"].includes(status.state as string);
      },
      20_000,
      `task ${id} finished`,
    );
    return status;
  }

  test("a success callback gets the result; stem result lists the callbacks started", async () => {
    const enqueued = await stem(ws.dir, [
      "enqueue",
      "demo.charge",
      "--args",
      '{"cents":500}',
      "--link",
      'demo.echo={"note":"receipt, emailed"}',
      "--link",
      "demo.echo",
      "--link-error",
      "demo.echo",
    ]);
    expect(enqueued.code).toBe(0);
    const id = enqueued.stdout.trim();
    const first = await finished(`${id}:link:0`);
    expect(first.result).toEqual({
      args: { note: "receipt, emailed" },
      previous: { charged: 500 },
    });
    expect((await finished(`${id}:link:1`)).result).toEqual({
      args: {},
      previous: { charged: 500 },
    });
    const table = await stem(ws.dir, ["result", id]);
    expect(table.stdout).toContain("meta.callbacks");
    expect(table.stdout).toContain(`${id}:link:0`);
    expect(table.stdout).not.toContain(`${id}:link-error:0`);
    const missing = await stem(ws.dir, ["result", `${id}:link-error:0`]);
    expect(missing.code).not.toBe(0);
  });

  test("an error callback gets the failed task's id and error", async () => {
    const enqueued = await stem(ws.dir, [
      "enqueue",
      "demo.declined",
      "--tasks",
      "./tasks.ts",
      "--link-error=demo.echo",
      "--json",
    ]);
    expect(enqueued.code).toBe(0);
    const { id } = JSON.parse(enqueued.stdout);
    const callback = await finished(`${id}:link-error:0`);
    expect(callback.result).toMatchObject({
      args: {
        failure: {
          id,
          name: "demo.declined",
          error: { type: "TypeError", message: "card declined" },
        },
      },
      previous: null,
    });
  });

  test("malformed callbacks are refused before anything is enqueued", async () => {
    const noName = await stem(ws.dir, ["enqueue", "demo.charge", "--link", '={"a":1}']);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--link needs a task name");
    const badJson = await stem(ws.dir, ["enqueue", "demo.charge", "--link-error", "demo.echo={"]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("--link-error is not valid JSON");
    const unknown = await stem(ws.dir, [
      "enqueue",
      "demo.charge",
      "--tasks",
      "./tasks.ts",
      "--link",
      "demo.nowhere",
    ]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('link[0]: unknown task "demo.nowhere"');
  });

  test("--help describes the flags", async () => {
    const help = await stem(ws.dir, ["enqueue", "--help"]);
    expect(help.stdout).toContain("--link");
    expect(help.stdout).toContain("--link-error");
  });
});
