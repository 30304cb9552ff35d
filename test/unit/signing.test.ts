import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { buildEnvelope, type Envelope, Headers, MetaKeys } from "../../src/core/envelope.ts";
import { StemError } from "../../src/core/errors.ts";
import { replayedEnvelope } from "../../src/adapters/dead-letters.ts";
import { canonicalJson, signingPayload } from "../../src/security/canonical.ts";
import { PayloadSigner, type SigningConfig } from "../../src/security/signing.ts";
import {
  parseKeyList,
  signerFromEnv,
  signingConfigFromEnv,
} from "../../src/security/signing-config.ts";
import { formatEnv, generateSigningKey } from "../../src/security/signing-keys.ts";

const secret = () => randomBytes(32).toString("base64");
const k1 = secret();
const k2 = secret();

function envelope(fields: Partial<Envelope> = {}): Envelope {
  return buildEnvelope({
    name: "billing.charge",
    args: { customerId: "cust_123", amount: 4200, lines: [{ sku: "a", qty: 2 }] },
    headers: { tenant: "acme" },
    meta: { source: "checkout" },
    ...fields,
  });
}

function expectStemError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StemError);
  expect((caught as StemError).code).toBe("invalid_argument");
  expect((caught as Error).message).toMatch(pattern);
}

describe("canonical form", () => {
  test("object keys are sorted at every depth; arrays keep their order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  test("covers what decides how a task runs, not the signature headers, attempt, notBefore or enqueuedAt", () => {
    const e = envelope({ maxRetries: 3, visibilityTimeoutMs: 5000, priority: 4 });
    const text = signingPayload(e).toString("utf8");
    expect(JSON.parse(text)).toEqual({
      id: e.id,
      name: e.name,
      args: e.args,
      headers: e.headers,
      meta: e.meta,
      queue: "default",
      priority: 4,
      maxRetries: 3,
      visibilityTimeoutMs: 5000,
    });
    const changed = {
      ...e,
      attempt: 3,
      notBefore: Date.now() + 1000,
      enqueuedAt: 1,
      headers: { ...e.headers, [Headers.signature]: "x", [Headers.signatureKey]: "k" },
    };
    expect(signingPayload(changed).equals(signingPayload(e))).toBe(true);
  });

  test("the same arguments in another key order give the same payload", () => {
    const a = envelope({ id: "same", args: { x: 1, y: { b: 2, a: 1 } } });
    const b = envelope({ id: "same", args: { y: { a: 1, b: 2 }, x: 1 } });
    expect(signingPayload(a).equals(signingPayload(b))).toBe(true);
  });
});

for (const algorithm of ["hmac-sha256", "ed25519"] as const) {
  describe(`${algorithm} signatures`, () => {
    const key = generateSigningKey(algorithm, "k1");
    const other = generateSigningKey(algorithm, "k1");
    const config = (k: typeof key): SigningConfig =>
      algorithm === "hmac-sha256"
        ? { algorithm, keys: { k1: k.secret! }, activeKey: "k1" }
        : {
            algorithm,
            keys: { k1: k.publicKey! },
            privateKeys: { k1: k.privateKey! },
            activeKey: "k1",
          };
    const signer = new PayloadSigner(config(key));

    test("a signed envelope verifies and names its key", () => {
      const signed = signer.sign(envelope());
      expect(signed.headers[Headers.signatureKey]).toBe("k1");
      expect(Buffer.from(signed.headers[Headers.signature], "base64").length).toBe(
        algorithm === "ed25519" ? 64 : 32,
      );
      expect(signer.verify(signed)).toBeNull();
    });

    test("an envelope survives a JSON round trip, a retry and a dead-letter replay", () => {
      const signed = signer.sign(
        envelope({ meta: { at: new Date("2025-01-01T00:00:00Z") } as never }),
      );
      const stored = JSON.parse(JSON.stringify(signed)) as Envelope;
      expect(signer.verify(stored)).toBeNull();
      expect(signer.verify({ ...stored, attempt: 2, notBefore: Date.now() + 5000 })).toBeNull();
      const replayed = replayedEnvelope(
        {
          envelope: stored,
          queue: stored.queue,
          reason: "x",
          deadAt: Date.now(),
          meta: {},
        } as never,
        Date.now(),
      );
      expect(replayed.meta[MetaKeys.replayCount]).toBe(1);
      expect(signer.verify(replayed)).toBeNull();
    });

    test("changing any signed field breaks the signature", () => {
      const signed = signer.sign(envelope({ maxRetries: 2, visibilityTimeoutMs: 5000 }));
      const tampered: Envelope[] = [
        { ...signed, args: { ...signed.args, amount: 1 } },
        { ...signed, args: { ...signed.args, extra: true } },
        { ...signed, headers: { ...signed.headers, tenant: "evil" } },
        { ...signed, headers: { ...signed.headers, added: "1" } },
        { ...signed, meta: { ...signed.meta, source: "elsewhere" } },
        { ...signed, name: "billing.refund" },
        { ...signed, id: "another-id" },
        { ...signed, queue: "elsewhere" },
        { ...signed, priority: 9 },
        { ...signed, maxRetries: 100 },
        { ...signed, maxRetries: undefined },
        { ...signed, visibilityTimeoutMs: 3_600_000 },
        { ...signed, meta: { ...signed.meta, [MetaKeys.hardTimeLimitMs]: 3_600_000 } },
      ];
      for (const e of tampered)
        expect(signer.verify(e)).toMatch(/signature does not match \(key "k1"\)/);
    });

    test("a signature made with another secret under the same key id is refused", () => {
      const forged = new PayloadSigner(config(other)).sign(envelope());
      expect(signer.verify(forged)).toMatch(/does not match/);
    });

    test("unsigned, unknown-key, key-less and garbled signatures are refused with a reason", () => {
      const signed = signer.sign(envelope());
      expect(signer.verify(envelope())).toMatch(/unsigned/);
      expect(
        signer.verify({ ...signed, headers: { ...signed.headers, [Headers.signatureKey]: "k9" } }),
      ).toMatch(/unknown key "k9" \(this worker accepts: k1\)/);
      const { [Headers.signatureKey]: _, ...noKey } = signed.headers;
      expect(signer.verify({ ...signed, headers: noKey })).toMatch(/names no key/);
      expect(
        signer.verify({
          ...signed,
          headers: { ...signed.headers, [Headers.signature]: "!!not base64!!" },
        }),
      ).toMatch(/not base64/);
      expect(
        signer.verify({ ...signed, headers: { ...signed.headers, [Headers.signature]: "AAAA" } }),
      ).toMatch(/does not match/);
    });

    test("the generated env lines configure a working signer", () => {
      const fromEnv = signerFromEnv(key.env)!;
      expect(fromEnv.algorithm).toBe(algorithm);
      expect(fromEnv.activeKey).toBe("k1");
      expect(signer.verify(fromEnv.sign(envelope()))).toBeNull();
      expect(formatEnv(key.env).split("\n")[0]).toBe(`STEM_SIGNING_ALGORITHM=${algorithm}`);
    });
  });
}

describe("Ed25519 key roles", () => {
  const key = generateSigningKey("ed25519", "prod-1");

  test("a worker with only the public key verifies but cannot sign", () => {
    const producer = new PayloadSigner({
      algorithm: "ed25519",
      keys: { "prod-1": key.publicKey! },
      privateKeys: { "prod-1": key.privateKey! },
      activeKey: "prod-1",
    });
    const worker = new PayloadSigner({ algorithm: "ed25519", keys: { "prod-1": key.publicKey! } });
    expect(worker.canSign).toBe(false);
    expect(worker.verify(producer.sign(envelope()))).toBeNull();
    expect(() => worker.sign(envelope())).toThrow(/can only verify/);
  });

  test("a private key that does not match its public key is refused", () => {
    const stranger = generateSigningKey("ed25519", "prod-1");
    expectStemError(
      () =>
        new PayloadSigner({
          algorithm: "ed25519",
          keys: { "prod-1": key.publicKey! },
          privateKeys: { "prod-1": stranger.privateKey! },
          activeKey: "prod-1",
        }),
      /private key "prod-1" in privateKeys does not match public key "prod-1"/,
    );
  });
});

describe("key rotation", () => {
  test("tasks signed with the old key verify while it is listed, and not once it is removed", () => {
    const before = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    const during = new PayloadSigner({ keys: { k1, k2 }, activeKey: "k2" });
    const after = new PayloadSigner({ keys: { k2 }, activeKey: "k2" });
    const old = before.sign(envelope());
    const fresh = during.sign(envelope());
    expect(fresh.headers[Headers.signatureKey]).toBe("k2");
    expect(during.verify(old)).toBeNull();
    expect(during.verify(fresh)).toBeNull();
    expect(after.verify(fresh)).toBeNull();
    expect(after.verify(old)).toMatch(/unknown key "k1"/);
  });
});

describe("configuration errors are clear StemErrors", () => {
  test("in code", () => {
    expectStemError(
      () => new PayloadSigner({ keys: { k1 }, activeKey: "k3" }),
      /active key "k3" \(activeKey\) is not listed in keys \(listed: k1\)/,
    );
    expectStemError(
      () => new PayloadSigner({ keys: { k1: "not base64!" } }),
      /key "k1" in keys is not valid base64/,
    );
    expectStemError(
      () => new PayloadSigner({ keys: { k1: "c2hvcnQ=" } }),
      /HMAC secret "k1" in keys is 5 bytes; use at least 16/,
    );
    expectStemError(
      () => new PayloadSigner({ algorithm: "rsa" as never, keys: { k1 } }),
      /unknown algorithm "rsa"/,
    );
    expectStemError(() => new PayloadSigner({ keys: {} }), /lists no keys/);
    expectStemError(() => new PayloadSigner({ keys: { "bad id": k1 } }), /key id "bad id"/);
    expectStemError(
      () => new PayloadSigner({ keys: { k1 }, privateKeys: { k1 } }),
      /only used with ed25519/,
    );
    const ed = generateSigningKey("ed25519", "e1");
    expectStemError(
      () =>
        new PayloadSigner({ algorithm: "ed25519", keys: { e1: ed.publicKey! }, activeKey: "e1" }),
      /active key "e1" \(activeKey\) has no private key in privateKeys/,
    );
    expectStemError(
      () =>
        new PayloadSigner({
          algorithm: "ed25519",
          keys: { e1: Buffer.alloc(31).toString("base64") },
        }),
      /Ed25519 public key "e1" in keys must be 32 bytes, got 31/,
    );
  });

  test("from the environment, naming the variables", () => {
    expect(signingConfigFromEnv({})).toBeNull();
    expect(signerFromEnv({ STEM_SIGNING_KEYS: "" })).toBeNull();
    expectStemError(
      () => signerFromEnv({ STEM_SIGNING_KEYS: `k1:${k1}`, STEM_SIGNING_ACTIVE_KEY: "k2" }),
      /active key "k2" \(STEM_SIGNING_ACTIVE_KEY\) is not listed in STEM_SIGNING_KEYS/,
    );
    expectStemError(
      () => signerFromEnv({ STEM_SIGNING_KEYS: "k1:%%%" }),
      /key "k1" in STEM_SIGNING_KEYS is not valid base64/,
    );
    expectStemError(
      () => signerFromEnv({ STEM_SIGNING_ALGORITHM: "md5", STEM_SIGNING_KEYS: `k1:${k1}` }),
      /unknown algorithm "md5" in STEM_SIGNING_ALGORITHM/,
    );
    expectStemError(
      () => signerFromEnv({ STEM_SIGNING_ACTIVE_KEY: "k1" }),
      /STEM_SIGNING_ACTIVE_KEY is set but STEM_SIGNING_KEYS is empty/,
    );
    expectStemError(
      () => signerFromEnv({ STEM_SIGNING_KEYS: `k1${k1}` }),
      /entries must look like id:base64/,
    );
    expectStemError(
      () => signerFromEnv({ STEM_SIGNING_KEYS: `k1:${k1},k1:${k2}` }),
      /key "k1" appears twice in STEM_SIGNING_KEYS/,
    );
    const ed = generateSigningKey("ed25519", "e1");
    expectStemError(
      () => signerFromEnv({ ...ed.env, STEM_SIGNING_PRIVATE_KEYS: "" }),
      /active key "e1" \(STEM_SIGNING_ACTIVE_KEY\) has no private key in STEM_SIGNING_PRIVATE_KEYS/,
    );
  });

  test("an entry in an error shows only the start of its secret", () => {
    try {
      parseKeyList("k1=abcdefghijkl", "STEM_SIGNING_KEYS");
      throw new Error("expected an error");
    } catch (error) {
      expect((error as Error).message).not.toContain("abcdefghijkl");
    }
  });

  test("lists tolerate spaces and empty items; hmac is short for hmac-sha256", () => {
    expect(parseKeyList(` k1:${k1} , ,k2:${k2} `, "X")).toEqual({ k1, k2 });
    expect(
      signerFromEnv({ STEM_SIGNING_ALGORITHM: "HMAC", STEM_SIGNING_KEYS: `k1:${k1}` })!.algorithm,
    ).toBe("hmac-sha256");
  });
});
