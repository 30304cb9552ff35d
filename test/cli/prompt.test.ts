/**
 * Deleting asks first on a terminal: the binary runs under a pseudo-terminal (util-linux
 * `script`), the test waits for the question, then answers like a person would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { eventually } from "../../src/testing/harness.ts";
import { BINARY, ensureBinary, stem, workspace } from "./binary.ts";

const SCHEDULE = `- id: nightly
  task: reports.generate
  schedule: "every:1h"
`;

/** Runs `stem ARGS` on a pseudo-terminal; types `keys` once the question is shown. */
async function onTerminal(dir: string, args: string[], keys: string) {
  const proc = Bun.spawn(["script", "-qfec", [BINARY, ...args].join(" "), "/dev/null"], {
    cwd: dir,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    // The machine's own STEM_* settings must not point the binary elsewhere.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STEM_"))),
  });
  let output = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>)
      output += decoder.decode(chunk);
  })();
  await eventually(() => output.includes("[y/N]"), 15_000, "the question");
  proc.stdin.write(keys);
  await proc.stdin.flush();
  const code = await proc.exited;
  proc.stdin.end();
  await reading;
  return { code, output };
}

/** Dead letters in the embedded store of `dir`. */
async function deadLetters(dir: string, count: number): Promise<void> {
  const connection = await openSqlite(`sqlite://${join(dir, ".stem/stem.db")}`);
  try {
    const broker = connection.broker();
    await broker.publish(Array.from({ length: count }, () => buildEnvelope({ name: "demo" })));
    const deliveries = await broker.fetch(["default"], {
      max: count,
      leaseMs: 60_000,
      waitMs: 0,
      consumer: "test",
    });
    for (const d of deliveries) await broker.deadLetter(d, "test");
  } finally {
    await connection.close();
  }
}

async function deadCount(dir: string): Promise<number> {
  const r = await stem(dir, ["observe", "queues", "--json"]);
  return JSON.parse(r.stdout).reduce((n: number, q: { dead: number }) => n + q.dead, 0);
}

describe("deleting asks first on a terminal", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "nightly.yaml": SCHEDULE });
    await deadLetters(ws.dir, 3);
  }, 120_000);

  afterAll(() => ws?.cleanup());

  test("dlq purge says how many; n, Enter and Ctrl-C delete nothing; y deletes", async () => {
    const no = await onTerminal(ws.dir, ["dlq", "purge"], "n\r");
    expect(no.output).toContain("Delete 3 dead letter(s)? This cannot be undone. [y/N]");
    expect(no.output).toContain("nothing deleted");
    expect(no.code).toBe(0);
    const enter = await onTerminal(ws.dir, ["dlq", "purge"], "\r");
    expect(enter.output).toContain("nothing deleted");
    expect(enter.code).toBe(0);
    const interrupted = await onTerminal(ws.dir, ["dlq", "purge"], "\x03");
    expect(interrupted.output).toContain("nothing deleted");
    expect(interrupted.code).toBe(130);
    expect(await deadCount(ws.dir)).toBe(3);

    // Not on a terminal: refused without --yes.
    const piped = await stem(ws.dir, ["dlq", "purge"]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain("without --yes");
    expect(await deadCount(ws.dir)).toBe(3);

    const yes = await onTerminal(ws.dir, ["dlq", "purge"], "y\r");
    expect(yes.output).toContain("deleted 3 dead letter(s)");
    expect(yes.code).toBe(0);
    expect(await deadCount(ws.dir)).toBe(0);
  });

  test("schedule remove asks too; schedule apply accepts --yes", async () => {
    const applied = await stem(ws.dir, ["schedule", "apply", "nightly.yaml", "--yes"]);
    expect(applied.code).toBe(0);
    const interrupted = await onTerminal(ws.dir, ["schedule", "remove", "nightly"], "\x03");
    expect(interrupted.output).toContain("Delete 1 schedule entry, nightly (every 1h");
    expect(interrupted.code).toBe(130);
    const piped = await stem(ws.dir, ["schedule", "remove", "nightly"]);
    expect(piped.code).toBe(2);
    expect((await stem(ws.dir, ["schedule", "show", "nightly"])).code).toBe(0);
    const yes = await onTerminal(ws.dir, ["schedule", "remove", "nightly"], "yes\r");
    expect(yes.output).toContain("removed nightly");
    expect((await stem(ws.dir, ["schedule", "show", "nightly"])).code).toBe(1);
  });
});
