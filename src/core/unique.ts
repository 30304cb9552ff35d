import { createHash } from "node:crypto";
import type { Envelope } from "./envelope.ts";

/** JSON with object keys sorted, so equal values always serialise the same way. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The uniqueness key of a task: meta `uniqueKey` when the caller gives one, else a hash of
 * name, queue and args. Headers are left out: trace headers differ on every enqueue.
 */
export function uniqueKeyFor(envelope: Envelope): string {
  const explicit = envelope.meta.uniqueKey;
  const basis =
    typeof explicit === "string"
      ? explicit
      : createHash("sha256")
          .update(
            canonicalJson({ name: envelope.name, queue: envelope.queue, args: envelope.args }),
          )
          .digest("hex");
  return `stem:unique:${envelope.name}:${basis}`;
}
