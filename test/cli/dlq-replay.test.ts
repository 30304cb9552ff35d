/**
 * `stem dlq retry` with a dead letter whose task id is queued again: the built binary
 * keeps the entry and says it was skipped (exit 1 for one id; listed under `skipped` with
 * --all --json), and replays the others.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { buildEnvelope, StemClient } from "../../src/index.ts";
import { ensureBinary, stem, workspace } from "./binary.ts";

let ws: ReturnType<typeof workspace>;
let client: StemClient;

beforeAll(async () => {
  await ensureBinary();
  ws = workspace();
}, 120_000);

afterAll(async () => {
  await client?.close();
  ws?.cleanup();
});

test("a dead letter whose id is queued again is kept and reported as skipped", async () => {
  const url = `sqlite://${join(ws.dir, "dlq.db")}`;
  client = await StemClient.fromUrl(url);
  const queue = "dlq-cli";
  const requeued = buildEnvelope({ name: "demo.x", queue, args: { n: 1 } });
  const free = buildEnvelope({ name: "demo.x", queue, args: { n: 2 } });
  await client.broker.publish([requeued, free]);
  const deliveries = await client.broker.fetch([queue], { max: 2, leaseMs: 60_000, consumer: "t" });
  for (const d of deliveries) await client.broker.deadLetter(d, "boom");
  await client.broker.publish([requeued]);

  const one = await stem(ws.dir, ["dlq", "retry", requeued.id, "--broker", url]);
  expect(one.code).toBe(1);
  expect(one.stderr).toContain(
    `not replayed: a task with id ${requeued.id} is queued or running again`,
  );
  expect(await client.broker.getDeadLetter(requeued.id)).not.toBeNull();

  const all = await stem(ws.dir, [
    "dlq",
    "retry",
    "--all",
    "--queue",
    queue,
    "--json",
    "--broker",
    url,
  ]);
  expect(all.code).toBe(0);
  expect(JSON.parse(all.stdout)).toEqual({
    dryRun: false,
    replayed: [free.id],
    skipped: [requeued.id],
  });
  expect(await client.broker.getDeadLetter(requeued.id)).not.toBeNull();
  expect(await client.broker.getDeadLetter(free.id)).toBeNull();

  const table = await stem(ws.dir, ["dlq", "retry", "--all", "--queue", queue, "--broker", url]);
  expect(table.stdout).toContain("replayed 0 dead letter(s)");
  expect(table.stdout).toContain(
    `skipped 1 whose task id is queued or running again (kept): ${requeued.id}`,
  );
}, 60_000);
