/**
 * Callbacks of a task (Celery's `link` / `link_error`). An enqueue with `link` or
 * `linkError` carries its callbacks in the envelope as a link frame, the innermost of its
 * canvas frames, with their ids fixed at enqueue (by default derived from the task's id:
 * `<id>:link:0`, `<id>:link-error:0`). The worker that settles the task starts them with
 * the canvas launch (`LaunchPlan` with `skipExisting`), before the task is acked: a
 * redelivery, a publish that failed, or one whose reply was lost, still starts each
 * callback exactly once, as for the steps of a chain.
 *
 * When they run:
 * - `link`: the task succeeded. The callback gets its result as `ctx.previousResult`, and in
 *   its args only when it asks (`previousAs` / `mergePrevious`), as a chain step does.
 * - `linkError`: the task failed for good: retries exhausted, an `UnrecoverableError` or an
 *   error its `retryOn` / `dontRetryOn` does not retry, a crashed handler, or dead-lettered
 *   over its delivery limit. Never on a retry. The callback gets `args.failure`
 *   (`{ id, name, error }`, see LinkedFailure).
 * - Neither: the task was revoked or expired (its work is no longer wanted; that is not a
 *   failure), or it was dead-lettered before running because no worker knows its name or
 *   its signature is bad (its envelope is not trusted, nor are the callbacks in it).
 *
 * The ids of the callbacks started are kept in the task's final status as `meta.callbacks`.
 * Exactly once is per callback id: a task replayed from the dead letters, or enqueued again
 * under the same explicit id, finds a callback that already ran for that id and skips it.
 */
import type { LinkedCall, EnqueueOptions } from "../core/enqueue-options.ts";
import { StemError, isTransientError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { TaskRegistry } from "../core/registry.ts";
import type { TaskStatus } from "../core/states.ts";
import type { Stem } from "../core/stem.ts";
import { type LaunchInput, LaunchPlan } from "./launch.ts";
import { CanvasMeta, type LinkFrame, type TaskNode, compile } from "./nodes.ts";
import { errorOf } from "./records.ts";
import { type Signature, isComposite } from "./signatures.ts";

/**
 * Puts the callbacks `options` names (`link`, `linkError`) for task `taskId` into its
 * envelope `meta`, checked, as the innermost canvas frame. Nothing when there are none.
 */
export function addLinkFrame(
  meta: Record<string, unknown>,
  taskId: string,
  options: EnqueueOptions,
  registry?: TaskRegistry,
): void {
  const onSuccess = linkedNodes(options.link, "link", taskId, registry);
  const onError = linkedNodes(options.linkError, "linkError", taskId, registry);
  if (onSuccess.length === 0 && onError.length === 0) return;
  const ids = new Set<string>([taskId]);
  for (const node of [...onSuccess, ...onError]) {
    if (ids.has(node.id)) {
      throw new StemError(
        "invalid_argument",
        `task ${taskId}: the callback id "${node.id}" is used twice (a callback's taskId must differ from the task's and from the other callbacks')`,
      );
    }
    ids.add(node.id);
  }
  const frame: LinkFrame = { t: "link", onSuccess, onError };
  const outer = meta[CanvasMeta.frames];
  meta[CanvasMeta.frames] = [frame, ...(Array.isArray(outer) ? outer : [])];
}

function linkedNodes(
  value: LinkedCall | LinkedCall[] | undefined,
  option: "link" | "linkError",
  taskId: string,
  registry: TaskRegistry | undefined,
): TaskNode[] {
  if (value === undefined) return [];
  const calls = Array.isArray(value) ? value : [value];
  const idPart = option === "link" ? "link" : "link-error";
  return calls.map((call, i) => {
    const where = Array.isArray(value) ? `${option}[${i}]` : option;
    if (call === null || typeof call !== "object" || Array.isArray(call)) {
      throw new StemError(
        "invalid_argument",
        `${where} must be a task call { name, args, options } (got ${JSON.stringify(call)})`,
      );
    }
    if (isComposite(call as Signature)) {
      throw new StemError(
        "invalid_argument",
        `${where} must be a single task call: chains, groups and chords cannot be linked (link a task that starts one)`,
      );
    }
    const options = call.options ?? {};
    if (options.ignoreResult ?? registry?.get(call.name)?.options.ignoreResult) {
      throw new StemError(
        "invalid_argument",
        `${where}: task "${call.name}" keeps no result (ignoreResult): a worker could not tell that it already started it, so it could run twice`,
      );
    }
    if (options.unique !== undefined && options.unique !== false) {
      throw new StemError(
        "invalid_argument",
        `${where}: a callback cannot be unique (a pending duplicate would stand in for it)`,
      );
    }
    const signature = {
      ...call,
      args: call.args ?? {},
      options: { ...options, taskId: options.taskId ?? `${taskId}:${idPart}:${i}` },
    };
    return compile(signature, registry, where) as TaskNode;
  });
}

/**
 * Starts the callbacks of a task that settled with `status`: `onSuccess` when it
 * succeeded, `onError` when it failed; none when it was revoked. Each is started on its
 * own, so a callback that cannot start (an unknown task on this worker: running again
 * would not help) does not hold back the others; it is logged and listed in the status's
 * `meta.callbackErrors`. A transient store error propagates: the task is redelivered and
 * starts what is still missing. The ids started go to `status.meta.callbacks`.
 */
export async function startLinks(
  stem: Stem,
  frame: LinkFrame,
  status: TaskStatus,
  now: number,
): Promise<void> {
  let nodes: TaskNode[];
  let input: LaunchInput;
  if (status.state === "succeeded") {
    nodes = frame.onSuccess;
    input = { previous: { value: status.result ?? null } };
  } else if (status.state === "failed") {
    nodes = frame.onError;
    input = { failure: { id: status.id, name: status.name, error: errorOf(status) } };
  } else return;
  const started: string[] = [];
  const errors: string[] = [];
  for (const node of nodes) {
    try {
      await new LaunchPlan(now).add(node, [], input).store(stem, { skipExisting: true });
      started.push(node.id);
    } catch (error) {
      if (isTransientError(error)) throw error;
      const message = `callback ${node.id} (${node.name}) could not start: ${(error as Error).message}`;
      logger.error(`task ${status.id} (${status.name}): ${message}`);
      errors.push(message);
    }
  }
  if (started.length > 0) status.meta.callbacks = started;
  if (errors.length > 0) status.meta.callbackErrors = errors;
}
