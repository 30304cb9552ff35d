import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Applies a status change to a run unless it is finished (completed, failed or
 * cancelled): the fields to set and delete come precomputed from the shared transition.
 * A change fenced with a claim older than the run's latest is refused.
 *
 * KEYS: workflowRun(id)
 * ARGV: workflowPrefix, fence ('' = not fenced), n, (field, value) * n, fields to delete...
 * Returns 1 when applied, 0 when the run is finished, -1 when there is no such run, -2
 * when the fence is stale.
 */
export const updateWorkflowRunScript = luaScript(
  "stemWfUpdateRun",
  1,
  `${WORKFLOW_RUN}
local run = load_run(KEYS[1])
if not run then return -1 end
if fenced(run, ARGV[2]) then return -2 end
if FINISHED[run.status] then return 0 end
local old = copy_run(run)
apply_patch(run, 3)
save_run(KEYS[1], run, old)
return 1
`,
);
