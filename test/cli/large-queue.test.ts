/**
 * The CLI on large queues and payloads: `stem observe queues` counts a queue of 20,000
 * tasks exactly, and `stem enqueue` refuses an envelope over STEM_MAX_ENVELOPE_BYTES as a
 * usage error naming the task and the size, queueing nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { fillQueue } from "../../src/testing/fill-queue.ts";
import { ensureBinary, stem, workspace } from "./binary.ts";

describe("stem on a large queue", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace();
    const connection = await openSqlite(`sqlite://${join(ws.dir, ".stem/stem.db")}`);
    try {
      await fillQueue(connection.broker(), "big", 20_000, { delayEvery: 4 });
    } finally {
      await connection.close();
    }
  }, 120_000);

  afterAll(() => ws?.cleanup());

  test("observe queues counts 20,000 tasks exactly", async () => {
    const result = await stem(ws.dir, ["observe", "queues", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({
        queue: "big",
        pending: 15_000,
        inflight: 0,
        delayed: 5_000,
        dead: 0,
        paused: false,
      }),
    ]);
  });

  test("enqueue refuses an envelope over STEM_MAX_ENVELOPE_BYTES (exit 2)", async () => {
    const args = JSON.stringify({ blob: "x".repeat(5000) });
    const refused = await stem(ws.dir, ["enqueue", "report.build", "--args", args], {
      STEM_MAX_ENVELOPE_BYTES: "4096",
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /task "report\.build" \(.+\) is too large to enqueue: its envelope is 5\.\d KiB \(\d+ bytes\), over the limit of 4\.0 KiB \(4096 bytes/,
    );
    const queues = JSON.parse((await stem(ws.dir, ["observe", "queues", "--json"])).stdout);
    expect(queues.map((q: { queue: string }) => q.queue)).toEqual(["big"]);
    // The same task under the default limit (1 MiB) is accepted.
    const accepted = await stem(ws.dir, ["enqueue", "report.build", "--args", args]);
    expect(accepted.code).toBe(0);
  });
});
