/**
 * The enqueue-time size limit on envelopes. Brokers keep whole envelopes in one row or
 * stream entry and hand them to workers in batches, so a multi-megabyte payload slows
 * every fetch of its queue; past the limit a producer gets a clear error instead.
 */
import { type Envelope, encodeEnvelope } from "./envelope.ts";
import { StemError } from "./errors.ts";

/** The default limit: 1 MiB of envelope JSON. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024;

/** The environment variable that sets the limit when no option does. */
export const MAX_ENVELOPE_BYTES_ENV = "STEM_MAX_ENVELOPE_BYTES";

/**
 * The limit in bytes: `option`, else STEM_MAX_ENVELOPE_BYTES, else 1 MiB. Throws a
 * StemError `invalid_argument` for anything but a positive integer.
 */
export function resolveMaxEnvelopeBytes(
  option?: number,
  env: Record<string, string | undefined> = process.env,
): number {
  const raw = option ?? env[MAX_ENVELOPE_BYTES_ENV];
  if (raw === undefined || raw === "") return DEFAULT_MAX_ENVELOPE_BYTES;
  const bytes = Number(raw);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    const source = option === undefined ? MAX_ENVELOPE_BYTES_ENV : "maxEnvelopeBytes";
    throw new StemError(
      "invalid_argument",
      `${source}: expected a positive whole number of bytes, got "${raw}"`,
    );
  }
  return bytes;
}

function readable(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * Throws a StemError `invalid_argument` naming the task and its size when over `limit`;
 * returns the envelope's JSON (`encodeEnvelope`), so a broker need not encode it again.
 */
export function checkEnvelopeSize(envelope: Envelope, limit: number): string {
  const json = encodeEnvelope(envelope);
  const size = Buffer.byteLength(json);
  if (size <= limit) return json;
  throw new StemError(
    "invalid_argument",
    `task "${envelope.name}" (${envelope.id}) is too large to enqueue: its envelope is ${readable(size)} (${size} bytes), over the limit of ${readable(limit)} (${limit} bytes; set maxEnvelopeBytes or ${MAX_ENVELOPE_BYTES_ENV}). Keep large data elsewhere and pass a reference.`,
  );
}
