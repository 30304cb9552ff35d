import type { RevokeEntry } from "../adapters/contracts.ts";
import { REVOKE_NAMESPACE } from "./revocations.ts";

/**
 * How long a revocation lasts when its request gives no expiry: 7 days, longer than a
 * result is kept by default (1 day), so a revoked task still queued, delayed or retrying
 * that long is skipped; then the store's housekeeping deletes it.
 */
export const DEFAULT_REVOCATION_EXPIRY_MS = 7 * 86_400_000;

/** What a revocation request says, for each task it names. */
export interface RevokeRequest {
  terminate: boolean;
  reason: string;
  requestedBy: string;
  /** When the revocation is forgotten. Default: {@link DEFAULT_REVOCATION_EXPIRY_MS} from now. */
  expiresAt?: number;
}

/**
 * Revoke-store entries for task ids, versioned by time (and position, so one request's
 * entries are ordered) so a later revocation of the same task replaces an earlier one.
 */
export function revokeEntries(ids: string[], request: RevokeRequest, now: number): RevokeEntry[] {
  return ids.map((taskId, i) => ({
    namespace: REVOKE_NAMESPACE,
    taskId,
    version: now * 1000 + i,
    issuedAt: now,
    ...request,
    expiresAt: request.expiresAt ?? now + DEFAULT_REVOCATION_EXPIRY_MS,
  }));
}
