/**
 * `stem dlq purge --older-than`: the built binary counts (--dry-run) and deletes only the
 * dead letters older than the given age, asks first unless --yes, and refuses a bad age.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { StoreConnection } from "../../src/adapters/contracts.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { buildEnvelope, FakeClock } from "../../src/index.ts";
import { ensureBinary, stem, workspace } from "./binary.ts";

const DAY = 86_400_000;
let ws: ReturnType<typeof workspace>;
const opened: StoreConnection[] = [];

beforeAll(async () => {
  await ensureBinary();
  ws = workspace();
}, 120_000);

afterAll(async () => {
  for (const c of opened) await c.close();
  ws?.cleanup();
});

/** Dead-letters one task, stamped by a connection whose clock reads `at`. */
async function deadLetterAt(url: string, at: number, queue: string): Promise<string> {
  const connection = await openSqlite(url, { clock: new FakeClock(at) });
  opened.push(connection);
  const broker = connection.broker();
  const envelope = buildEnvelope({ name: "demo.x", queue });
  await broker.publish([envelope]);
  const [delivery] = await broker.fetch([queue], { max: 1, leaseMs: 60_000, consumer: "t" });
  await broker.deadLetter(delivery, "boom");
  return envelope.id;
}

test("purge --older-than counts on a dry run, then deletes only the older dead letters", async () => {
  const url = `sqlite://${join(ws.dir, "purge.db")}`;
  const old = await deadLetterAt(url, Date.now() - 10 * DAY, "q1");
  const recent = await deadLetterAt(url, Date.now() - DAY, "q2");
  const flags = ["--older-than", "7d", "--broker", url];

  const dry = await stem(ws.dir, ["dlq", "purge", ...flags, "--dry-run", "--json"]);
  expect(dry.code).toBe(0);
  expect(JSON.parse(dry.stdout)).toEqual({ dryRun: true, count: 1 });
  const dryText = await stem(ws.dir, ["dlq", "purge", ...flags, "--dry-run"]);
  expect(dryText.stdout).toContain("would delete 1 dead letter(s) older than 7d");

  const unconfirmed = await stem(ws.dir, ["dlq", "purge", ...flags]);
  expect(unconfirmed.code).toBe(2);
  expect(unconfirmed.stderr).toContain("refusing to purge without --yes");

  const purged = await stem(ws.dir, ["dlq", "purge", ...flags, "--yes"]);
  expect(purged.code).toBe(0);
  expect(purged.stdout).toContain("deleted 1 dead letter(s)");
  const listed = await stem(ws.dir, ["dlq", "list", "--json", "--broker", url]);
  expect(
    (JSON.parse(listed.stdout) as { envelope: { id: string } }[]).map((d) => d.envelope.id),
  ).toEqual([recent]);
  expect(old).not.toBe(recent);

  const bad = await stem(ws.dir, [
    "dlq",
    "purge",
    "--older-than",
    "a week",
    "--yes",
    "--broker",
    url,
  ]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--older-than: "a week" is not a duration');
}, 60_000);

test("worker --dead-letter-retention is documented and a bad value is refused", async () => {
  const help = await stem(ws.dir, ["worker", "--help"]);
  expect(help.stdout).toContain("--dead-letter-retention");
  const bad = await stem(ws.dir, [
    "worker",
    "--tasks",
    "./none.ts",
    "--dead-letter-retention",
    "forever",
  ]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--dead-letter-retention: "forever" is not a duration');
}, 60_000);
