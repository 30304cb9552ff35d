/**
 * Payload signing settings from the environment:
 *
 * - `STEM_SIGNING_ALGORITHM`: `hmac-sha256` (default) or `ed25519`
 * - `STEM_SIGNING_KEYS`: `id:base64,id:base64` — HMAC secrets, or Ed25519 public keys
 * - `STEM_SIGNING_PRIVATE_KEYS`: `id:base64,...` — Ed25519 private keys (producers)
 * - `STEM_SIGNING_ACTIVE_KEY`: the id new envelopes are signed with
 *
 * `stem keys generate` prints a ready set of these lines.
 */
import { StemError } from "../core/errors.ts";
import {
  PayloadSigner,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningConfig,
} from "./signing.ts";

export const SigningEnv = {
  algorithm: "STEM_SIGNING_ALGORITHM",
  keys: "STEM_SIGNING_KEYS",
  privateKeys: "STEM_SIGNING_PRIVATE_KEYS",
  activeKey: "STEM_SIGNING_ACTIVE_KEY",
} as const;

/** Parses `id:value,id:value` (whitespace around items ignored); throws naming `source`. */
export function parseKeyList(text: string | undefined, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text?.trim()) return out;
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const colon = item.indexOf(":");
    if (colon <= 0 || colon === item.length - 1) {
      throw new StemError(
        "invalid_argument",
        `payload signing: ${source} entries must look like id:base64, got "${redact(item)}"`,
      );
    }
    const id = item.slice(0, colon).trim();
    if (id in out)
      throw new StemError(
        "invalid_argument",
        `payload signing: key "${id}" appears twice in ${source}`,
      );
    out[id] = item.slice(colon + 1).trim();
  }
  return out;
}

/** Shows an entry in an error without printing a whole secret. */
function redact(item: string): string {
  const colon = item.indexOf(":");
  const secret = colon >= 0 ? item.slice(colon + 1) : item;
  return secret.length > 4
    ? `${item.slice(0, Math.max(colon, 0))}${colon >= 0 ? ":" : ""}${secret.slice(0, 4)}…`
    : item;
}

/** Accepts `hmac`, `hmac-sha256` and `ed25519` (any case). */
export function parseAlgorithm(
  text: string,
  source: string = SigningEnv.algorithm,
): SigningAlgorithm {
  const name = text.trim().toLowerCase();
  if (name === "hmac" || name === "hmac-sha256") return "hmac-sha256";
  if (name === "ed25519") return "ed25519";
  throw new StemError(
    "invalid_argument",
    `payload signing: unknown algorithm "${text}" in ${source} (use ${SIGNING_ALGORITHMS.join(" or ")})`,
  );
}

/**
 * The signing configuration in `env`, or null when no STEM_SIGNING_* variable is set.
 * A partial or invalid setting is a StemError, never silently "unsigned".
 */
export function signingConfigFromEnv(
  env: Record<string, string | undefined> = process.env,
): SigningConfig | null {
  const set = Object.values(SigningEnv).filter((name) => env[name]?.trim());
  if (set.length === 0) return null;
  const keys = parseKeyList(env[SigningEnv.keys], SigningEnv.keys);
  if (Object.keys(keys).length === 0) {
    throw new StemError(
      "invalid_argument",
      `payload signing: ${set.join(", ")} ${set.length > 1 ? "are" : "is"} set but ${SigningEnv.keys} is empty`,
    );
  }
  const algorithmText = env[SigningEnv.algorithm]?.trim();
  return {
    algorithm: algorithmText ? parseAlgorithm(algorithmText) : "hmac-sha256",
    keys,
    privateKeys: parseKeyList(env[SigningEnv.privateKeys], SigningEnv.privateKeys),
    activeKey: env[SigningEnv.activeKey]?.trim() || undefined,
    sources: { ...SigningEnv },
  };
}

/** A signer from the environment, or null when signing is not configured there. */
export function signerFromEnv(
  env: Record<string, string | undefined> = process.env,
): PayloadSigner | null {
  const config = signingConfigFromEnv(env);
  return config ? new PayloadSigner(config) : null;
}
