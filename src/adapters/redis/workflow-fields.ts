/**
 * How a workflow run is laid out in its Redis hash (see lua/workflow-shared.ts), and how
 * a shared run transition becomes the field patch a script applies.
 */

import type { StoredRun } from "../../workflow/run-transitions.ts";
import type { WorkflowRun, WorkflowWatcher } from "../contracts.ts";
import type { ScriptArg } from "./scripts.ts";

/** Fields kept as JSON text. */
const JSON_FIELDS = new Set([
  "params",
  "result",
  "lastError",
  "suspensionData",
  "cancellationPolicy",
  "cancellationData",
  "watchData",
]);

/** Fields kept as decimal numbers. */
const NUMBER_FIELDS = new Set([
  "cursor",
  "createdAt",
  "updatedAt",
  "resumeAt",
  "leaseExpiresAt",
  "fencingToken",
  "dueAt",
  "watchCreatedAt",
  "watchDeadline",
]);

/** Every WorkflowRun field, so a decoded run has all of them (absent ones null). */
const RUN_FIELDS: (keyof WorkflowRun)[] = [
  "id",
  "workflow",
  "status",
  "cursor",
  "params",
  "parentRunId",
  "createdAt",
  "updatedAt",
  "result",
  "currentStep",
  "waitTopic",
  "resumeAt",
  "lastError",
  "suspensionData",
  "ownerId",
  "leaseExpiresAt",
  "fencingToken",
  "cancellationPolicy",
  "cancellationData",
];

/** Field → new value; null deletes the field. */
export type FieldPatch = Record<string, unknown>;

function encodeValue(field: string, value: unknown): string {
  if (JSON_FIELDS.has(field)) return JSON.stringify(value);
  return String(value);
}

/**
 * A patch as script arguments: the count of fields to set, the (field, value) pairs,
 * then the fields to delete.
 */
export function patchArgs(patch: FieldPatch): ScriptArg[] {
  const sets: ScriptArg[] = [];
  const deletes: ScriptArg[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === null || value === undefined) deletes.push(field);
    else sets.push(field, encodeValue(field, value));
  }
  return [sets.length / 2, ...sets, ...deletes];
}

/** Every field of a new run, as a patch. */
export function runPatch({ run, dueAt }: StoredRun): FieldPatch {
  return { ...run, dueAt };
}

/** The watcher's fields, as a patch. `watchResume` is what resolveWatchers builds on. */
export function watcherPatch(watcher: WorkflowWatcher): FieldPatch {
  const { payload: _p, topic: _t, deliveredAt: _d, ...kept } = watcher.data;
  return {
    watchStep: watcher.stepName,
    watchTopic: watcher.topic,
    watchData: watcher.data,
    watchResume: JSON.stringify(kept).slice(0, -1),
    watchCreatedAt: watcher.createdAt,
    watchDeadline: watcher.deadline,
  };
}

/** A flat HGETALL reply (from a script) as an object. */
export function hashFromReply(reply: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i < reply.length; i += 2) hash[reply[i]] = reply[i + 1];
  return hash;
}

function decodeValue(field: string, text: string | undefined | null): unknown {
  if (text === undefined || text === null) return null;
  if (JSON_FIELDS.has(field)) return JSON.parse(text);
  if (NUMBER_FIELDS.has(field)) return Number(text);
  return text;
}

/** The run stored in a hash. */
export function decodeRun(hash: Record<string, string>): WorkflowRun {
  const run: Record<string, unknown> = {};
  for (const field of RUN_FIELDS) run[field] = decodeValue(field, hash[field]);
  // Runs stored before fencing tokens existed have none: never claimed since.
  run.fencingToken ??= 0;
  return run as unknown as WorkflowRun;
}

/** A watcher from its run id and the run's watch fields (step, topic, data, createdAt, deadline). */
export function decodeWatcher(
  reply: [string, string, string, string, string, string | null],
): WorkflowWatcher {
  const [runId, stepName, topic, data, createdAt, deadline] = reply;
  return {
    runId,
    stepName,
    topic,
    data: JSON.parse(data) as Record<string, unknown>,
    createdAt: Number(createdAt),
    deadline: deadline === null ? null : Number(deadline),
  };
}

/**
 * The fields a shared transition (src/workflow/run-transitions.ts) writes, found by
 * applying it to a probe run. The transitions this is used with only assign fields
 * after checking that the run is not finished (a check the scripts make on the stored
 * run), so what they assign does not depend on the stored run and can be computed here
 * and applied by a script in one atomic step. A transition that read any other field
 * would make this throw rather than compute a wrong patch.
 */
export function transitionPatch(apply: (stored: StoredRun) => unknown): FieldPatch {
  const written: FieldPatch = {};
  const read = (field: string | symbol) => {
    if (typeof field === "string" && field in written) return written[field];
    // `live()` checks that the run is not finished; the script checks the stored one.
    if (field === "status") return "running";
    throw new Error(
      `workflow transition read run.${String(field)}: the Redis store cannot precompute it`,
    );
  };
  const record = (field: string | symbol, value: unknown) => {
    written[String(field)] = value;
    return true;
  };
  const run = new Proxy({} as WorkflowRun, {
    get: (_, field) => read(field),
    set: (_, field, value) => record(field, value),
  });
  const stored = new Proxy({} as StoredRun, {
    get: (_, field) => (field === "run" ? run : read(field)),
    set: (_, field, value) => record(field, value),
  });
  apply(stored);
  return written;
}
