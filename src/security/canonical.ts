/**
 * The canonical text of an envelope that payload signatures cover: the fields a producer
 * decides (id, name, args, headers, meta), as JSON with every object's keys sorted.
 *
 * Left out on purpose: `attempt`, `notBefore`, lease and priority settings, which brokers
 * change legitimately on retries, redelivery and replay; the signature headers
 * themselves; and the dead-letter replay counter, which a replay bumps in meta.
 */
import { type Envelope, Headers, MetaKeys } from "../core/envelope.ts";

const UNSIGNED_HEADERS = new Set<string>([Headers.signature, Headers.signatureKey]);
const UNSIGNED_META = new Set<string>([MetaKeys.replayCount]);

/** JSON of a value with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  // One JSON round trip first: the signature must cover what the broker will store and
  // hand back (Dates become strings, undefined fields disappear), not the live objects.
  const plain = value === undefined ? null : JSON.parse(JSON.stringify(value));
  return JSON.stringify(sortKeys(plain));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

function without(record: Record<string, unknown>, skip: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) if (!skip.has(key)) out[key] = v;
  return out;
}

/** The bytes a signature is computed over. */
export function signingPayload(envelope: Envelope): Buffer {
  return Buffer.from(
    canonicalJson({
      id: envelope.id,
      name: envelope.name,
      args: envelope.args ?? {},
      headers: without(envelope.headers ?? {}, UNSIGNED_HEADERS),
      meta: without(envelope.meta ?? {}, UNSIGNED_META),
    }),
    "utf8",
  );
}
