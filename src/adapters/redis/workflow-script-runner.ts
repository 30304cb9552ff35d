/**
 * Calls the workflow scripts that change runs with every key they touch in KEYS, laid
 * out as lua/workflow-shared.ts describes. Some keys depend on what is stored (the
 * topics a run waits on, the runs an index holds): the caller passes those it knows, and
 * a script that finds it lacks others writes nothing and names them, so it is called
 * again with them added.
 */
import { StemError } from "../../core/errors.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { WORKFLOW_STALE, WORKFLOW_STATUSES } from "./lua/workflow-shared.ts";
import { type LuaScript, runScript, type ScriptArg } from "./scripts.ts";

/**
 * How many calls one operation may take. Each retry adds what the previous call lacked;
 * another is needed only when the store changed in between (a run moved to another
 * topic, another caller took the watchers named), so a few are plenty.
 */
const MAX_CALLS = 10;

/** One call of a run-changing workflow script. */
export interface WorkflowScriptCall {
  /** The script's own keys, before the run indexes. */
  keys: string[];
  /** Topics whose keys are needed (known before the call, e.g. the one suspended on). */
  topics?: Iterable<string>;
  /** Runs whose keys are needed (candidates read from an index). */
  runIds?: Iterable<string>;
  /** The script's own arguments (`ARG`). */
  args: ScriptArg[];
}

/** What a script returns when it lacks keys: the marker, run ids, topics. */
type LackingReply = [typeof WORKFLOW_STALE, string[], string[]];

function isLacking(reply: unknown): reply is LackingReply {
  return Array.isArray(reply) && reply[0] === WORKFLOW_STALE;
}

/** Runs workflow scripts on one key prefix. */
export class WorkflowScriptRunner {
  /** The run index keys, in the order the scripts read them. */
  private readonly indexKeys: string[];

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.indexKeys = [
      ...WORKFLOW_STATUSES.map((status) => keys.workflowRunsIn(status)),
      keys.workflowRunning,
      keys.workflowDue,
    ];
  }

  /** Runs `script` until it has every key it needs, and returns its reply. */
  async run<R>(script: LuaScript, call: WorkflowScriptCall): Promise<R> {
    const topics = new Set(call.topics);
    const runIds = new Set(call.runIds);
    for (let calls = 1; ; calls++) {
      const reply = await runScript<R | LackingReply>(
        this.client,
        script,
        [
          ...call.keys,
          ...this.indexKeys,
          ...[...topics].flatMap((t) => [
            this.keys.workflowWaiting(t),
            this.keys.workflowWatchers(t),
          ]),
          ...[...runIds].map((id) => this.keys.workflowRun(id)),
        ],
        [topics.size, ...topics, runIds.size, ...runIds, ...call.args],
      );
      if (!isLacking(reply)) return reply;
      if (calls === MAX_CALLS) {
        throw new StemError(
          "conflict",
          `workflow store: ${script.name} still lacked keys after ${MAX_CALLS} calls (runs ${reply[1].join(", ") || "-"}, topics ${reply[2].join(", ") || "-"}): the runs changed between every call; try again`,
        );
      }
      for (const id of reply[1]) runIds.add(id);
      for (const topic of reply[2]) topics.add(topic);
    }
  }
}
