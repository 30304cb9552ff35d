/**
 * Keyed and group rate limits through the built binary: `stem tasks ls` shows each task's
 * limit with its key, group and fail mode; a bad key spec is refused when the module
 * loads; and a worker keeps one `1/m` bucket per tenant for tasks `stem enqueue` sends.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, startStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const report = defineTask<{ tenant: string; n: number }>({
  name: "rl.report",
  options: { rateLimit: "1/m", rateLimitKey: "args.tenant" },
  run: (ctx, { tenant, n }) => \`\${tenant}\${n}\`,
});

export const welcome = defineTask({
  name: "rl.welcome",
  options: { rateLimit: "10/s", rateLimitGroup: "smtp", rateLimitFailMode: "open" },
  run: () => "sent",
});
`;

const BAD_KEY = `import { defineTask } from "stem";
export const t = defineTask({
  name: "rl.bad",
  options: { rateLimit: "1/s", rateLimitKey: "tenant" },
  run: () => 1,
});
`;

describe("keyed rate limits from the binary", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS, "bad.ts": BAD_KEY });
  }, 120_000);
  afterAll(() => ws?.cleanup());

  test("stem tasks ls shows the limit with its key, group and fail mode", async () => {
    const json = JSON.parse(
      (await stem(ws.dir, ["tasks", "ls", "-t", "./tasks.ts", "--json"])).stdout,
    );
    expect(json.tasks).toEqual([
      expect.objectContaining({
        name: "rl.report",
        rateLimit: "1/m",
        rateLimitKey: "args.tenant",
        rateLimitFailMode: "closed",
      }),
      expect.objectContaining({
        name: "rl.welcome",
        rateLimit: "10/s",
        rateLimitGroup: "smtp",
        rateLimitFailMode: "open",
      }),
    ]);
    const table = (await stem(ws.dir, ["tasks", "ls", "-t", "./tasks.ts"], { COLUMNS: "200" }))
      .stdout;
    expect(table).toContain("1/m per args.tenant");
    expect(table).toContain("10/s, group smtp, fail open");
  });

  test("a bad key spec is refused when the module loads, naming the task", async () => {
    const r = await stem(ws.dir, ["tasks", "ls", "-t", "./bad.ts"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`task "rl.bad": rateLimitKey "tenant" is not a key spec`);
  });

  test("a worker keeps one bucket per tenant", async () => {
    const { proc } = await startStem(ws.dir, ["worker", "-t", "./tasks.ts", "-c", "2"]);
    try {
      const enqueue = async (tenant: string, n: number) =>
        JSON.parse(
          (
            await stem(ws.dir, [
              "enqueue",
              "rl.report",
              "--args",
              JSON.stringify({ tenant, n }),
              "--json",
            ])
          ).stdout,
        ).id as string;
      const ids = [await enqueue("a", 1), await enqueue("b", 1), await enqueue("a", 2)];
      const state = async (id: string) =>
        JSON.parse((await stem(ws.dir, ["result", id, "--json"])).stdout);
      for (const id of ids.slice(0, 2)) {
        await eventually(async () => (await state(id)).state === "succeeded", 20_000);
      }
      // Tenant a's second report waits for a's bucket (a minute) in the broker.
      expect((await state(ids[2])).state).toBe("queued");
    } finally {
      proc.kill("SIGKILL");
    }
  }, 90_000);
});
