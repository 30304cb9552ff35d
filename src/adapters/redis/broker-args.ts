/** Argument building and reply splitting shared by the Redis broker and its dead letters. */

import { clampPriority, type Envelope, encodeEnvelope } from "../../core/envelope.ts";
import { StemError } from "../../core/errors.ts";
import type { TaskStatus } from "../../core/states.ts";
import type { PublishResult } from "../contracts.ts";

export function fieldsObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** Removes from `pending` and returns the statuses of `items` (matched by task id). */
export function takeStatuses<T>(
  pending: Map<string, TaskStatus>,
  items: T[],
  idOf: (item: T) => string,
): TaskStatus[] {
  const taken: TaskStatus[] = [];
  for (const item of items) {
    const status = pending.get(idOf(item));
    if (status) {
      taken.push(status);
      pending.delete(idOf(item));
    }
  }
  return taken;
}

/** Splits envelopes into accepted and duplicates from per-queue publish flags. */
export function publishResult(
  envelopes: Envelope[],
  byQueue: Map<string, Envelope[]>,
  replies: number[][],
): PublishResult {
  const accepted = new Set<Envelope>();
  [...byQueue.values()].forEach((list, i) => {
    list.forEach((envelope, j) => {
      if (replies[i][j] === 1) accepted.add(envelope);
    });
  });
  const result: PublishResult = { accepted: [], duplicates: [] };
  for (const envelope of envelopes) {
    (accepted.has(envelope) ? result.accepted : result.duplicates).push(envelope.id);
  }
  return result;
}

/** Longest lease a visibility timeout can ask for (a year); longer values are capped. */
export const MAX_LEASE_MS = 365 * 86_400_000;

/**
 * ARGV tuple (id, band, vt, notBefore, json) for the publish and replay scripts; `json` is
 * the envelope's encoding when the caller already has it.
 */
export function envelopeArgs(envelope: Envelope, json = encodeEnvelope(envelope)): string[] {
  const vt = envelope.visibilityTimeoutMs;
  return [
    envelope.id,
    String(clampPriority(envelope.priority)),
    vt !== undefined && vt > 0 ? String(Math.ceil(Math.min(vt, MAX_LEASE_MS))) : "",
    envelope.notBefore !== undefined ? String(Math.round(envelope.notBefore)) : "",
    json,
  ];
}

/** `envelopeArgs` for each of `list`, with the producer's encodings (`encoded`, aligned with `all`) where given. */
export function envelopesArgs(
  list: Envelope[],
  all: Envelope[],
  encoded: readonly string[] | undefined,
): string[] {
  if (!encoded) return list.flatMap((envelope) => envelopeArgs(envelope));
  const json = new Map(all.map((envelope, i) => [envelope, encoded[i]!]));
  return list.flatMap((envelope) => envelopeArgs(envelope, json.get(envelope)));
}

export function checkPublishable(envelope: Envelope): void {
  if (typeof envelope.id !== "string" || envelope.id.length === 0) {
    throw new StemError("invalid_argument", "cannot publish an envelope without an id");
  }
  if (typeof envelope.queue !== "string" || envelope.queue.length === 0) {
    throw new StemError("invalid_argument", `envelope ${envelope.id} has no queue`);
  }
}
