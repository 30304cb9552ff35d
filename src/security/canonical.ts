/**
 * The canonical text of an envelope that payload signatures cover: every field that
 * decides what a task does and how it runs — id, name, args, headers, meta (time limits,
 * expiry, uniqueness, canvas links), queue, priority, maxRetries and visibilityTimeoutMs —
 * as JSON with every object's keys sorted. Whoever can write to the broker cannot reroute
 * a task, reorder it, change its retry budget or its lease undetected.
 *
 * Left out on purpose, because brokers change them legitimately: `attempt` (counted on
 * every redelivery), `notBefore` (retries, rate-limit deferrals, replays), `enqueuedAt`
 * (bookkeeping only), the signature headers themselves, and the dead-letter replay counter
 * in meta. Envelopes signed by the earlier scheme (which covered only id, name, args,
 * headers and meta) no longer verify: drain or re-enqueue them when upgrading.
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
      queue: envelope.queue,
      priority: envelope.priority,
      maxRetries: envelope.maxRetries,
      visibilityTimeoutMs: envelope.visibilityTimeoutMs,
      headers: without(envelope.headers ?? {}, UNSIGNED_HEADERS),
      meta: without(envelope.meta ?? {}, UNSIGNED_META),
    }),
    "utf8",
  );
}
