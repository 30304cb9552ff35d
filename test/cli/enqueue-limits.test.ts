/**
 * `stem enqueue` per-call limits: --hard-time-limit / --soft-time-limit override the
 * task's, --max-deliveries is checked; bad values are refused before anything is enqueued.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureBinary, spawnStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const hang = defineTask({
  name: "demo.hang",
  options: { hardTimeLimit: "1h" },
  // Ends when its signal fires, reporting why.
  run: (ctx) =>
    new Promise((resolve, reject) =>
      ctx.signal.addEventListener("abort", () => {
        const why = String(ctx.signal.reason?.message);
        if (why.includes("soft")) resolve(why);
        else reject(new Error(why));
      }),
    ),
});
`;

describe("stem enqueue limits", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem> | undefined;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS });
    worker = spawnStem(ws.dir, ["worker", "--tasks", "./tasks.ts"]);
  }, 60_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("bad values are usage errors", async () => {
    const a = await stem(ws.dir, ["enqueue", "demo.hang", "--max-deliveries", "0"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("--max-deliveries must be a positive integer");
    const b = await stem(ws.dir, ["enqueue", "demo.hang", "--soft-time-limit", "soon"]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain("--soft-time-limit");
  });

  test("--hard-time-limit fails the attempt; --soft-time-limit fires the signal", async () => {
    const hard = await stem(ws.dir, [
      "enqueue",
      "demo.hang",
      "--hard-time-limit",
      "200ms",
      "--max-deliveries",
      "5",
      "--wait",
      "--timeout",
      "20s",
    ]);
    expect(hard.code).toBe(1);
    expect(hard.stdout + hard.stderr).toContain("hard time limit (200 ms) exceeded");
    const soft = await stem(ws.dir, [
      "enqueue",
      "demo.hang",
      "--soft-time-limit",
      "150ms",
      "--wait",
      "--timeout",
      "20s",
      "--json",
    ]);
    expect(soft.code).toBe(0);
    expect(soft.stdout).toContain("soft time limit (150 ms) exceeded");
  });

  test("--unique-key deduplicates without --tasks; a bad --unique-for is refused", async () => {
    const args = ["enqueue", "demo.other", "--unique-key", "nightly", "--unique-for", "10m"];
    const first = await stem(ws.dir, args);
    const again = await stem(ws.dir, args);
    expect(first.code).toBe(0);
    expect(again.stdout.trim()).toBe(first.stdout.trim());
    expect(first.stderr).not.toContain("without --tasks");
    const plain = await stem(ws.dir, ["enqueue", "demo.other"]);
    expect(plain.stderr).toContain("without --tasks the task's own queue and uniqueness are not known");
    const other = await stem(ws.dir, ["enqueue", "demo.other", "--unique-key", "weekly"]);
    expect(other.stdout.trim()).not.toBe(first.stdout.trim());
    const bad = await stem(ws.dir, ["enqueue", "demo.other", "--unique-for", "later"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--unique-for");
  });
});
