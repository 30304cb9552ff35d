/** New signing keys, in the STEM_SIGNING_* format. */
import { createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { StemError } from "../core/errors.ts";
import { SigningEnv } from "./signing-config.ts";
import { type SigningAlgorithm, rawPublicKey } from "./signing.ts";

/** A freshly generated key and the environment lines that configure it. */
export interface GeneratedSigningKey {
  algorithm: SigningAlgorithm;
  id: string;
  /** HMAC secret, base64 (32 bytes). */
  secret?: string;
  /** Ed25519 public key, base64 (32 bytes): goes to every worker. */
  publicKey?: string;
  /** Ed25519 private key seed, base64 (32 bytes): only producers need it. */
  privateKey?: string;
  /** The STEM_SIGNING_* variables for a process that signs and verifies with this key alone. */
  env: Record<string, string>;
}

/** A key id that sorts by creation day: `k20250101-1a2b3c`. */
export function newKeyId(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, "");
  return `k${day}-${randomBytes(3).toString("hex")}`;
}

/** Generates a key. HMAC secrets are 32 random bytes; Ed25519 keys are a new pair. */
export function generateSigningKey(
  algorithm: SigningAlgorithm,
  id: string = newKeyId(),
): GeneratedSigningKey {
  if (!/^[A-Za-z0-9._-]+$/.test(id)) {
    throw new StemError(
      "invalid_argument",
      `key id "${id}" may only contain letters, digits, ".", "_" and "-"`,
    );
  }
  if (algorithm === "hmac-sha256") {
    const secret = randomBytes(32).toString("base64");
    return {
      algorithm,
      id,
      secret,
      env: {
        [SigningEnv.algorithm]: algorithm,
        [SigningEnv.keys]: `${id}:${secret}`,
        [SigningEnv.activeKey]: id,
      },
    };
  }
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "jwk" }).d;
  if (!seed) throw new StemError("invalid_argument", "could not export the generated Ed25519 key");
  const publicKey = rawPublicKey(createPublicKey(privateKey)).toString("base64");
  const privateText = Buffer.from(seed, "base64url").toString("base64");
  return {
    algorithm,
    id,
    publicKey,
    privateKey: privateText,
    env: {
      [SigningEnv.algorithm]: algorithm,
      [SigningEnv.keys]: `${id}:${publicKey}`,
      [SigningEnv.privateKeys]: `${id}:${privateText}`,
      [SigningEnv.activeKey]: id,
    },
  };
}

/** `NAME=value` lines, one per variable. */
export function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join("\n");
}
