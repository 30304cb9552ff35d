/**
 * A check that every Redis Lua script touches only keys it was given in KEYS (issue #19):
 * Redis requires this for scripts on a cluster, and does not check it itself. A MONITOR
 * connection records every command the server runs while the contract suites run; the
 * commands a script runs follow its EVALSHA in that stream (a script is atomic, so
 * nothing else comes between). At the end the server names the keys of each such
 * command (COMMAND GETKEYS), and each must be among its script's KEYS.
 *
 * Other test runs may share the server: only scripts whose arguments name a key prefix
 * passed to `watch` are checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import type { LuaScript } from "../../src/adapters/redis/scripts.ts";

/** One script call seen by MONITOR: its KEYS and the commands it ran. */
interface ScriptRun {
  sha: string;
  keys: string[];
  commands: string[][];
}

/**
 * Records the scripts run on the server at `url()` while a test file runs (call at top
 * level). `watch` takes each key prefix the suites use; `check`, called after the suites
 * are registered, adds the test that checks the recorded scripts' keys.
 */
export function recordScriptKeys(url: () => string): {
  watch(prefix: string): void;
  check(): void;
} {
  const prefixes = new Set<string>();
  const runs: ScriptRun[] = [];
  let monitor: Awaited<ReturnType<Redis["monitor"]>>;

  beforeAll(async () => {
    monitor = await new Redis(url()).monitor();
    let current: ScriptRun | null = null;
    monitor.on("monitor", (_time: string, quoted: string[], source: string) => {
      const args = quoted.map(unquote);
      if (source === "lua") {
        current?.commands.push(args);
        return;
      }
      current = null;
      const name = args[0]?.toLowerCase();
      if (name !== "evalsha" && name !== "eval") return;
      const numKeys = Number(args[2]);
      const run = {
        // EVAL carries the source (ioredis sends it once the server lacks the script).
        sha: name === "evalsha" ? args[1] : sha1(args[1]),
        keys: args.slice(3, 3 + numKeys),
        commands: [],
      };
      if ([...prefixes].some((prefix) => args.some((arg) => arg.includes(prefix)))) {
        runs.push(run);
        current = run;
      }
    });
  });

  afterAll(() => {
    monitor?.disconnect();
  });

  /** Adds the check; call after registering the suites, as tests run in that order. */
  function check(): void {
    describe("Redis scripts and their KEYS", () => {
      test("every key a script touched while the contract suites ran was passed in its KEYS", async () => {
        const client = new Redis(url());
        try {
          // MONITOR replies lag the commands: wait for a marker sent after the suites.
          const marker = `script-keys-marker-${crypto.randomUUID()}`;
          const seen = new Promise<void>((resolve) => {
            monitor.on("monitor", (_time: string, args: string[]) => {
              if (args.includes(marker)) resolve();
            });
          });
          await client.echo(marker);
          await seen;

          expect(runs.length).toBeGreaterThan(0);
          const commands = runs.flatMap((run) => run.commands);
          const distinct = [...new Map(commands.map((c) => [JSON.stringify(c), c])).values()];
          const keys = new Map<string, string[]>();
          for (let from = 0; from < distinct.length; from += 1000) {
            const chunk = distinct.slice(from, from + 1000);
            const found = await keysOf(client, chunk);
            chunk.forEach((command, i) => keys.set(JSON.stringify(command), found[i]));
          }
          expect(keys.size).toBeGreaterThan(0);

          const names = await scriptNames();
          const undeclared = new Set<string>();
          for (const run of runs) {
            const declared = new Set(run.keys);
            for (const command of run.commands) {
              for (const key of keys.get(JSON.stringify(command)) ?? []) {
                if (!declared.has(key)) {
                  undeclared.add(`${names.get(run.sha) ?? run.sha}: ${command[0]} ${key}`);
                }
              }
            }
          }
          // Ids and prefixes are random: report each script and command once.
          const report = [...undeclared].map((line) =>
            line
              .replace(/stem-contract-[0-9a-f]{8}/g, "<prefix>")
              .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>"),
          );
          expect([...new Set(report)].sort()).toEqual([]);
        } finally {
          client.disconnect();
        }
      }, 60_000);
    });
  }

  return { watch: (prefix) => prefixes.add(prefix), check };
}

const sha1 = (text: string) => new Bun.CryptoHasher("sha1").update(text).digest("hex");

const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8 };

/**
 * An argument as sent: MONITOR quotes arguments (\n, \xHH, ...) and ioredis only
 * undoes the escaped quotes.
 */
function unquote(arg: string): string {
  if (!arg.includes("\\")) return arg;
  const bytes: number[] = [];
  const text = Buffer.from(arg, "utf8");
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== 0x5c || i + 1 >= text.length) {
      bytes.push(text[i]);
      continue;
    }
    const next = String.fromCharCode(text[++i]);
    if (next === "x") {
      bytes.push(Number.parseInt(text.subarray(i + 1, i + 3).toString(), 16));
      i += 2;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The keys the server finds in a command (none for a command without keys). */
async function keysOf(client: Redis, commands: string[][]): Promise<string[][]> {
  const pipeline = client.pipeline();
  for (const command of commands) pipeline.call("COMMAND", "GETKEYS", ...command);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, keys]) => (error ? [] : (keys as string[])));
}

/** Script name by SHA1 of its source (every script module under lua/), for readable failures. */
async function scriptNames(): Promise<Map<string, string>> {
  const dir = new URL("../../src/adapters/redis/lua/", import.meta.url).pathname;
  const names = new Map<string, string>();
  for await (const file of new Bun.Glob("*.ts").scan(dir)) {
    for (const value of Object.values(await import(`${dir}${file}`))) {
      const script = value as Partial<LuaScript>;
      if (typeof script?.source === "string" && typeof script.name === "string") {
        names.set(sha1(script.source), script.name);
      }
    }
  }
  return names;
}
