/**
 * Payload signing: producers sign each envelope, workers verify before running it.
 *
 * HMAC-SHA256 (one shared secret per key) or Ed25519 (producers hold private keys,
 * workers only public ones). Every signature names its key in the `stem-signature-key`
 * header, so keys rotate without downtime: list the new key next to the old ones, make it
 * active, and drop the old one once no task signed with it can still be delivered.
 */
import {
  type KeyObject,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as signBytes,
  timingSafeEqual,
  verify as verifyBytes,
} from "node:crypto";
import { type Envelope, Headers } from "../core/envelope.ts";
import { StemError } from "../core/errors.ts";
import { signingPayload } from "./canonical.ts";

/** The signature schemes Stem supports. */
export type SigningAlgorithm = "hmac-sha256" | "ed25519";

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["hmac-sha256", "ed25519"];

/** Signing settings, from code or from STEM_SIGNING_* (see `signingConfigFromEnv`). */
export interface SigningConfig {
  /** Default `hmac-sha256`. */
  algorithm?: SigningAlgorithm;
  /**
   * Keys that verify, by id, base64: HMAC secrets (at least 16 bytes), or Ed25519 public
   * keys (32 bytes). Keep retired keys here while tasks signed with them may still arrive.
   */
  keys: Record<string, string>;
  /** Ed25519 only: private keys (32-byte seeds, base64) by id; needed to sign. */
  privateKeys?: Record<string, string>;
  /** The key new envelopes are signed with. Without it the signer only verifies. */
  activeKey?: string;
  /** Names the settings in error messages (e.g. the environment variable names). */
  sources?: { keys?: string; privateKeys?: string; activeKey?: string; algorithm?: string };
}

/** Minimum HMAC secret length: 128 bits. */
export const MIN_HMAC_SECRET_BYTES = 16;

const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const KEY_ID = /^[A-Za-z0-9._-]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function misconfigured(message: string): StemError {
  return new StemError("invalid_argument", `payload signing: ${message}`);
}

/** Decodes base64 (standard or URL-safe); throws naming the key and the setting. */
export function decodeKey(value: string, id: string, source: string): Buffer {
  const text = value.trim();
  if (text.length === 0 || !BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) {
    throw misconfigured(`key "${id}" in ${source} is not valid base64`);
  }
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/** An Ed25519 public key from its 32 raw bytes. */
export function ed25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, raw]),
    format: "der",
    type: "spki",
  });
}

/** An Ed25519 private key from its 32-byte seed. */
export function ed25519PrivateKey(seed: Buffer): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
}

/** The raw 32 bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const x = key.export({ format: "jwk" }).x;
  if (!x) throw new StemError("invalid_argument", "not an Ed25519 key");
  return Buffer.from(x, "base64url");
}

interface VerifyKey {
  hmac?: Buffer;
  publicKey?: KeyObject;
}

/**
 * Signs envelopes with the active key and verifies them against every listed key.
 * Construction checks the whole configuration and throws a StemError naming what is
 * wrong, so a misconfigured process fails at startup rather than on its first task.
 */
export class PayloadSigner {
  readonly algorithm: SigningAlgorithm;
  /** The id new signatures use, when this signer can sign. */
  readonly activeKey?: string;
  private readonly keys = new Map<string, VerifyKey>();
  private readonly signingKey?: { hmac?: Buffer; privateKey?: KeyObject };

  constructor(config: SigningConfig) {
    const src = {
      keys: config.sources?.keys ?? "keys",
      privateKeys: config.sources?.privateKeys ?? "privateKeys",
      activeKey: config.sources?.activeKey ?? "activeKey",
      algorithm: config.sources?.algorithm ?? "algorithm",
    };
    const algorithm = config.algorithm ?? "hmac-sha256";
    if (!SIGNING_ALGORITHMS.includes(algorithm)) {
      throw misconfigured(
        `unknown algorithm "${algorithm}" in ${src.algorithm} (use hmac-sha256 or ed25519)`,
      );
    }
    this.algorithm = algorithm;
    const ids = Object.keys(config.keys ?? {});
    if (ids.length === 0) throw misconfigured(`${src.keys} lists no keys`);
    for (const id of ids) {
      if (!KEY_ID.test(id)) {
        throw misconfigured(
          `key id "${id}" in ${src.keys} may only contain letters, digits, ".", "_" and "-"`,
        );
      }
      const bytes = decodeKey(config.keys[id], id, src.keys);
      if (algorithm === "hmac-sha256") {
        if (bytes.length < MIN_HMAC_SECRET_BYTES) {
          throw misconfigured(
            `HMAC secret "${id}" in ${src.keys} is ${bytes.length} bytes; use at least ${MIN_HMAC_SECRET_BYTES} (stem keys generate makes one)`,
          );
        }
        this.keys.set(id, { hmac: bytes });
      } else {
        if (bytes.length !== 32) {
          throw misconfigured(
            `Ed25519 public key "${id}" in ${src.keys} must be 32 bytes, got ${bytes.length}`,
          );
        }
        this.keys.set(id, { publicKey: ed25519PublicKey(bytes) });
      }
    }

    const privateKeys = config.privateKeys ?? {};
    if (algorithm === "hmac-sha256" && Object.keys(privateKeys).length > 0) {
      throw misconfigured(
        `${src.privateKeys} is only used with ed25519; HMAC secrets go in ${src.keys}`,
      );
    }
    const privates = new Map<string, KeyObject>();
    for (const [id, value] of Object.entries(privateKeys)) {
      const seed = decodeKey(value, id, src.privateKeys);
      if (seed.length !== 32) {
        throw misconfigured(
          `Ed25519 private key "${id}" in ${src.privateKeys} must be 32 bytes, got ${seed.length}`,
        );
      }
      const publicKey = this.keys.get(id)?.publicKey;
      if (!publicKey)
        throw misconfigured(
          `private key "${id}" in ${src.privateKeys} has no public key in ${src.keys}`,
        );
      const privateKey = ed25519PrivateKey(seed);
      if (!rawPublicKey(createPublicKey(privateKey)).equals(rawPublicKey(publicKey))) {
        throw misconfigured(
          `private key "${id}" in ${src.privateKeys} does not match public key "${id}" in ${src.keys}`,
        );
      }
      privates.set(id, privateKey);
    }

    const active = config.activeKey?.trim() || undefined;
    if (active !== undefined) {
      const key = this.keys.get(active);
      if (!key) {
        throw misconfigured(
          `active key "${active}" (${src.activeKey}) is not listed in ${src.keys} (listed: ${ids.join(", ")})`,
        );
      }
      if (algorithm === "ed25519") {
        const privateKey = privates.get(active);
        if (!privateKey)
          throw misconfigured(
            `active key "${active}" (${src.activeKey}) has no private key in ${src.privateKeys}`,
          );
        this.signingKey = { privateKey };
      } else {
        this.signingKey = { hmac: key.hmac };
      }
      this.activeKey = active;
    }
  }

  /** Ids of the keys that verify. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** True when an active key is configured (otherwise the signer only verifies). */
  get canSign(): boolean {
    return this.signingKey !== undefined;
  }

  /** A copy of the envelope with `stem-signature` and `stem-signature-key` set. */
  sign(envelope: Envelope): Envelope {
    if (!this.signingKey || !this.activeKey) {
      throw new StemError(
        "invalid_argument",
        "payload signing: no active key, so this signer can only verify",
      );
    }
    const payload = signingPayload(envelope);
    const signature = this.signingKey.hmac
      ? createHmac("sha256", this.signingKey.hmac).update(payload).digest()
      : signBytes(null, payload, this.signingKey.privateKey!);
    return {
      ...envelope,
      headers: {
        ...envelope.headers,
        [Headers.signature]: signature.toString("base64"),
        [Headers.signatureKey]: this.activeKey,
      },
    };
  }

  /** Null when the envelope carries a valid signature by a listed key; otherwise why not. */
  verify(envelope: Envelope): string | null {
    const signatureText = envelope.headers?.[Headers.signature];
    if (!signatureText)
      return `the task is unsigned (no ${Headers.signature} header) and this worker requires signed tasks`;
    const keyId = envelope.headers[Headers.signatureKey];
    if (!keyId) return `the signature names no key (no ${Headers.signatureKey} header)`;
    const key = this.keys.get(keyId);
    if (!key)
      return `the task is signed with unknown key "${keyId}" (this worker accepts: ${this.keyIds.join(", ")})`;
    if (!BASE64.test(signatureText)) return `the ${Headers.signature} header is not base64`;
    const signature = Buffer.from(signatureText, "base64");
    const payload = signingPayload(envelope);
    let ok: boolean;
    if (key.hmac) {
      const expected = createHmac("sha256", key.hmac).update(payload).digest();
      ok = signature.length === expected.length && timingSafeEqual(signature, expected);
    } else {
      ok = signature.length === 64 && verifyBytes(null, payload, key.publicKey!, signature);
    }
    return ok
      ? null
      : `the signature does not match (key "${keyId}"): the task was changed after signing, or signed with another secret`;
  }

  /** For `StemOptions.beforePublish`: signs every envelope published. */
  readonly beforePublish = (envelope: Envelope): Envelope => this.sign(envelope);

  /** For `WorkerOptions.verify`: a reason dead-letters the task with reason `signature`. */
  readonly verifier = (envelope: Envelope): string | null => this.verify(envelope);
}
