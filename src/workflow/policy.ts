/**
 * WorkflowCancellationPolicy: resolving the user's durations, clamping suspensions to the
 * policy's deadline, and deciding when a run must be cancelled.
 */
import type { WorkflowCancellationPolicy, WorkflowRun } from "../adapters/contracts.ts";
import { parseDuration } from "../core/duration.ts";
import type { WorkflowCancellationPolicyInput } from "./types.ts";

/** The stored form (ms), or undefined when no limit is set. */
export function resolvePolicy(
  input: WorkflowCancellationPolicyInput | undefined,
): WorkflowCancellationPolicy | undefined {
  if (!input) return undefined;
  const policy: WorkflowCancellationPolicy = {};
  if (input.maxRunDuration !== undefined) {
    policy.maxRunDuration = parseDuration(
      input.maxRunDuration,
      "cancellationPolicy.maxRunDuration",
    );
  }
  if (input.maxSuspendDuration !== undefined) {
    policy.maxSuspendDuration = parseDuration(
      input.maxSuspendDuration,
      "cancellationPolicy.maxSuspendDuration",
    );
  }
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/**
 * The latest a suspension starting at `suspendedAt` may last before the policy cancels
 * the run (run deadline or suspend limit, whichever comes first); null without limits.
 */
export function policyDeadline(run: WorkflowRun, suspendedAt: number): number | null {
  const policy = run.cancellationPolicy;
  if (!policy) return null;
  const limits: number[] = [];
  if (policy.maxRunDuration !== undefined) limits.push(run.createdAt + policy.maxRunDuration);
  if (policy.maxSuspendDuration !== undefined) limits.push(suspendedAt + policy.maxSuspendDuration);
  return limits.length ? Math.min(...limits) : null;
}

/** Why the policy cancels a run, with the numbers behind it. */
export interface PolicyViolation {
  reason: "maxRunDuration" | "maxSuspendDuration";
  details: Record<string, unknown>;
}

/**
 * The limit a run has exceeded at `now`, if any. The suspend limit applies to a run
 * waking from a suspension (its suspension data records `suspendedAt`).
 */
export function policyViolation(
  run: WorkflowRun,
  now: number,
  waking: boolean,
): PolicyViolation | null {
  const policy = run.cancellationPolicy;
  if (!policy) return null;
  if (policy.maxRunDuration !== undefined) {
    const elapsed = now - run.createdAt;
    if (elapsed >= policy.maxRunDuration) {
      return {
        reason: "maxRunDuration",
        details: { limitMs: policy.maxRunDuration, elapsedMs: elapsed },
      };
    }
  }
  const suspendedAt = run.suspensionData?.suspendedAt;
  if (waking && policy.maxSuspendDuration !== undefined && typeof suspendedAt === "number") {
    const elapsed = now - suspendedAt;
    if (elapsed >= policy.maxSuspendDuration) {
      return {
        reason: "maxSuspendDuration",
        details: {
          limitMs: policy.maxSuspendDuration,
          elapsedMs: elapsed,
          step: run.suspensionData?.step ?? null,
        },
      };
    }
  }
  return null;
}
