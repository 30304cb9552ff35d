import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Stores a new workflow run unless its id is taken, and indexes it.
 *
 * KEYS: workflowRun(id), workflowRuns, workflowRunsOf(workflow), the run indexes,
 *   waiting and watchers keys per topic
 * ARG: n, (field, value) * n — the run's fields
 * Returns 1 when created, 0 when a run with that id exists, or the lacking-keys reply
 * (lua/workflow-shared.ts).
 */
export const createWorkflowRunScript = luaScript(
  "stemWfCreateRun",
  "variable",
  `${workflowRunLua(3)}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local run = {}
apply_patch(run, 1)
local lacking = lacking_keys({}, { run })
if lacking then return lacking end
save_run(KEYS[1], run, {})
redis.call('ZADD', KEYS[2], run.createdAt, run.id)
redis.call('ZADD', KEYS[3], run.createdAt, run.id)
return 1
`,
);
