import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Stores a new workflow run unless its id is taken, and indexes it.
 *
 * KEYS: workflowRun(id), workflowRuns, workflowRunsOf(workflow)
 * ARGV: workflowPrefix, n, (field, value) * n — the run's fields
 * Returns 1 when created, 0 when a run with that id exists.
 */
export const createWorkflowRunScript = luaScript(
  "stemWfCreateRun",
  3,
  `${WORKFLOW_RUN}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local run = {}
apply_patch(run, 2)
save_run(KEYS[1], run, {})
redis.call('ZADD', KEYS[2], run.createdAt, run.id)
redis.call('ZADD', KEYS[3], run.createdAt, run.id)
return 1
`,
);
