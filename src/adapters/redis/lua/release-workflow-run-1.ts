import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Gives a run's execution lease up if `owner` (with a fence, that claim) holds it.
 *
 * KEYS: workflowRun(id)
 * ARGV: workflowPrefix, owner, fence ('' = any claim of owner)
 * Returns 1 when released, 0 when `owner` did not hold it, -1 when there is no such run.
 */
export const releaseWorkflowRunScript = luaScript(
  "stemWfReleaseRun",
  1,
  `${WORKFLOW_RUN}
local run = load_run(KEYS[1])
if not run then return -1 end
if run.ownerId ~= ARGV[2] or fenced(run, ARGV[3]) then return 0 end
local old = copy_run(run)
run.ownerId = nil
run.leaseExpiresAt = nil
save_run(KEYS[1], run, old)
return 1
`,
);
