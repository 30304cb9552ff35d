import type { RevokeEntry } from "../adapters/contracts.ts";
import { REVOKE_NAMESPACE } from "./revocations.ts";

/** What a revocation request says, for each task it names. */
export interface RevokeRequest {
  terminate: boolean;
  reason: string;
  requestedBy: string;
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
  }));
}
