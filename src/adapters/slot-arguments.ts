/** Argument checks every ConcurrencySlots adapter shares, so each refuses bad input alike. */
import { StemError } from "../core/errors.ts";

/** A slot limit must be a positive integer. */
export function checkSlotLimit(key: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StemError(
      "invalid_argument",
      `concurrency limit of "${key}" must be a positive integer, got ${limit}`,
    );
  }
}

/** A slot lease must be a positive, finite number of ms. */
export function checkSlotLease(key: string, leaseMs: number): void {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new StemError(
      "invalid_argument",
      `slot lease of "${key}" must be a positive number of ms, got ${leaseMs}`,
    );
  }
}
