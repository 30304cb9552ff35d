import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Applies a status change to a run unless it is finished (completed, failed or
 * cancelled): the fields to set and delete come precomputed from the shared transition.
 * A change fenced with a claim older than the run's latest is refused.
 *
 * KEYS: workflowRun(id), the run indexes, waiting and watchers keys per topic
 * ARG: fence ('' = not fenced), n, (field, value) * n, fields to delete...
 * Returns 1 when applied, 0 when the run is finished, -1 when there is no such run, -2
 * when the fence is stale, or the lacking-keys reply (lua/workflow-shared.ts).
 */
export const updateWorkflowRunScript = luaScript(
  "stemWfUpdateRun",
  "variable",
  `${workflowRunLua(1)}
local run = load_run(KEYS[1])
if not run then return -1 end
if fenced(run, ARG[1]) then return -2 end
if FINISHED[run.status] then return 0 end
local old = copy_run(run)
apply_patch(run, 2)
local lacking = lacking_keys({}, { old, run })
if lacking then return lacking end
save_run(KEYS[1], run, old)
return 1
`,
);
