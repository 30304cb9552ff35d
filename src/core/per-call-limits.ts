import { parseDuration } from "./duration.ts";
import type { EnqueueOptions } from "./enqueue-options.ts";
import { MetaKeys } from "./envelope.ts";
import { StemError } from "./errors.ts";

/**
 * The meta keys the worker reads for a call's own time limits and delivery limit, checked
 * here so a bad value is refused at enqueue, naming the option.
 */
export function perCallLimitMeta(o: EnqueueOptions): Record<string, number> {
  const meta: Record<string, number> = {};
  const soft =
    o.softTimeLimit === undefined ? undefined : parseDuration(o.softTimeLimit, "softTimeLimit");
  const hard =
    o.hardTimeLimit === undefined ? undefined : parseDuration(o.hardTimeLimit, "hardTimeLimit");
  if (soft !== undefined && hard !== undefined && soft > hard) {
    throw new StemError("invalid_argument", "softTimeLimit must not exceed hardTimeLimit");
  }
  if (soft !== undefined) meta[MetaKeys.softTimeLimitMs] = soft;
  if (hard !== undefined) meta[MetaKeys.hardTimeLimitMs] = hard;
  if (o.maxDeliveries !== undefined) {
    if (!Number.isInteger(o.maxDeliveries) || o.maxDeliveries < 1) {
      throw new StemError(
        "invalid_argument",
        `maxDeliveries must be a positive integer, got ${o.maxDeliveries}`,
      );
    }
    meta[MetaKeys.maxDeliveries] = o.maxDeliveries;
  }
  return meta;
}
