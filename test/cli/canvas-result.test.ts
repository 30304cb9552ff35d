/**
 * `stem result ID` on a canvas: the built binary shows which members have not settled
 * (a table row for people, `missingMembers` in JSON), reading the store a producer and an
 * in-process worker write.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { StemClient, task } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { canvasTasks, releaseHangingTasks } from "../e2e/fixtures/canvas-tasks.ts";
import { ensureBinary, stem, workspace } from "./binary.ts";

let ws: ReturnType<typeof workspace>;
let client: StemClient;

beforeAll(async () => {
  await ensureBinary();
  ws = workspace();
}, 120_000);

afterAll(async () => {
  releaseHangingTasks();
  await client?.close();
  ws?.cleanup();
});

test("stem result on a chord lists the members that have not settled", async () => {
  const url = `sqlite://${join(ws.dir, "canvas.db")}`;
  client = await StemClient.fromUrl(url, { tasks: canvasTasks });
  await client.createWorker({ concurrency: 4 }).start();
  const handle = await client.canvas.chord(
    [task("cv.add", { a: 1, b: 1 }), task("cv.hang", { value: 1 }), task("cv.hang", { value: 2 })],
    task("cv.sum"),
  );
  const [, second, third] = await handle.members();
  await eventually(async () => (await handle.status()).completed === 1, 10_000, "one member");

  const json = await stem(ws.dir, ["result", handle.id, "--json", "--broker", url]);
  expect(json.code).toBe(0);
  const shown = JSON.parse(json.stdout);
  expect(shown).toMatchObject({ id: handle.id, name: "stem.chord" });
  expect(shown.missingMembers).toEqual([second.id, third.id]);

  const table = await stem(ws.dir, ["result", handle.id, "--broker", url]);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain("1 of 3");
  expect(table.stdout).toContain(second.id);
  expect(table.stdout).toContain(third.id);

  releaseHangingTasks();
  expect(await handle.get({ timeout: "20s" })).toBe(5);
  const done = JSON.parse(
    (await stem(ws.dir, ["result", handle.id, "--json", "--broker", url])).stdout,
  );
  expect(done.missingMembers).toEqual([]);
}, 60_000);
