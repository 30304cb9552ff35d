import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signerFromEnv } from "../../src/security/signing-config.ts";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, stem, TASKS_TS, workspace } from "./binary.ts";

/** `NAME=value` lines into an object. */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.trim().split("\n")) {
    const eq = line.indexOf("=");
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

describe("stem keys", () => {
  let ws: ReturnType<typeof workspace>;
  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
  }, 120_000);
  afterAll(() => ws?.cleanup());

  test("generate --algorithm hmac prints a working STEM_SIGNING_* set", async () => {
    const r = await stem(ws.dir, ["keys", "generate", "--algorithm", "hmac", "--id", "k1"]);
    expect(r.code).toBe(0);
    const env = parseEnv(r.stdout);
    expect(Object.keys(env)).toEqual([
      "STEM_SIGNING_ALGORITHM",
      "STEM_SIGNING_KEYS",
      "STEM_SIGNING_ACTIVE_KEY",
    ]);
    expect(env.STEM_SIGNING_ALGORITHM).toBe("hmac-sha256");
    expect(env.STEM_SIGNING_KEYS).toMatch(/^k1:[A-Za-z0-9+/]{43}=$/);
    expect(signerFromEnv(env)?.canSign).toBe(true);
    // Two runs never print the same secret.
    const again = parseEnv((await stem(ws.dir, ["keys", "generate", "--id", "k1"])).stdout);
    expect(again.STEM_SIGNING_KEYS).not.toBe(env.STEM_SIGNING_KEYS);
  });

  test("generate --algorithm ed25519 prints public and private keys; --json for scripts", async () => {
    const r = await stem(ws.dir, ["keys", "generate", "--algorithm", "ed25519"]);
    expect(r.code).toBe(0);
    const env = parseEnv(r.stdout);
    expect(env.STEM_SIGNING_ALGORITHM).toBe("ed25519");
    expect(env.STEM_SIGNING_ACTIVE_KEY).toMatch(/^k\d{8}-[0-9a-f]{6}$/);
    expect(env.STEM_SIGNING_PRIVATE_KEYS.startsWith(`${env.STEM_SIGNING_ACTIVE_KEY}:`)).toBe(true);
    const signer = signerFromEnv(env)!;
    const verifyOnly = signerFromEnv({
      STEM_SIGNING_ALGORITHM: "ed25519",
      STEM_SIGNING_KEYS: env.STEM_SIGNING_KEYS,
    })!;
    const envelope = {
      id: "1",
      name: "t",
      args: {},
      headers: {},
      queue: "q",
      priority: 0,
      attempt: 0,
      maxRetries: 0,
      enqueuedAt: 0,
      meta: {},
    };
    expect(verifyOnly.verify(signer.sign(envelope))).toBeNull();
    const json = JSON.parse(
      (await stem(ws.dir, ["keys", "generate", "--algorithm", "ed25519", "--id", "e1", "--json"]))
        .stdout,
    );
    expect(json).toMatchObject({
      algorithm: "ed25519",
      id: "e1",
      env: { STEM_SIGNING_ACTIVE_KEY: "e1" },
    });
    expect(Buffer.from(json.publicKey, "base64")).toHaveLength(32);
  });

  test("an unknown algorithm is a usage error", async () => {
    const r = await stem(ws.dir, ["keys", "generate", "--algorithm", "rsa"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown algorithm "rsa" in --algorithm');
  });

  test("check reports the configured keys, and names what is wrong", async () => {
    const env = parseEnv((await stem(ws.dir, ["keys", "generate", "--id", "k1"])).stdout);
    const ok = await stem(ws.dir, ["keys", "check", "--json"], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({
      enabled: true,
      algorithm: "hmac-sha256",
      keys: ["k1"],
      activeKey: "k1",
      canSign: true,
    });
    const bad = await stem(ws.dir, ["keys", "check"], { ...env, STEM_SIGNING_ACTIVE_KEY: "k2" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'active key "k2" (STEM_SIGNING_ACTIVE_KEY) is not listed in STEM_SIGNING_KEYS',
    );
    const off = await stem(ws.dir, ["keys", "check"]);
    expect(off.code).toBe(1);
    expect(off.stdout).toContain("payload signing is off");
  });

  test("a worker with signing runs signed tasks and dead-letters unsigned ones (reason signature)", async () => {
    const env = parseEnv((await stem(ws.dir, ["keys", "generate", "--id", "k1"])).stdout);
    const worker = spawnStem(
      ws.dir,
      ["worker", "--tasks", "./tasks.ts", "--worker-id", "signed-worker"],
      env,
    );
    let log = "";
    const decoder = new TextDecoder();
    void (async () => {
      for await (const chunk of worker.stderr as ReadableStream<Uint8Array>)
        log += decoder.decode(chunk);
    })();
    try {
      await eventually(() => log.includes("ready"), 20_000, "worker ready");
      const signed = await stem(
        ws.dir,
        ["enqueue", "demo.hello", "--args", '{"name":"signed"}', "--wait", "--json"],
        env,
      );
      expect(signed.code).toBe(0);
      expect(JSON.parse(signed.stdout)).toMatchObject({
        state: "succeeded",
        result: "hello signed",
      });

      const unsigned = await stem(ws.dir, [
        "enqueue",
        "demo.hello",
        "--args",
        '{"name":"forged"}',
        "--json",
      ]);
      expect(unsigned.code).toBe(0);
      const { id } = JSON.parse(unsigned.stdout);
      const entry = await eventually(
        async () => {
          const list = JSON.parse((await stem(ws.dir, ["dlq", "list", "--json"])).stdout) as {
            envelope: { id: string };
            reason: string;
          }[];
          return list.find((d) => d.envelope.id === id);
        },
        20_000,
        "the unsigned task in the dead-letter queue",
      );
      expect(entry.reason).toBe("signature");
      expect(log).toContain(`task ${id} (demo.hello) dead-lettered: the task is unsigned`);
      expect(log).not.toContain(`task demo.hello ${id} started`);
    } finally {
      worker.kill("SIGKILL");
      await worker.exited;
    }
  }, 90_000);
});
