import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Gives a run's execution lease up if `owner` (with a fence, that claim) holds it.
 *
 * KEYS: workflowRun(id), the run indexes, waiting and watchers keys per topic
 * ARG: owner, fence ('' = any claim of owner)
 * Returns 1 when released, 0 when `owner` did not hold it, -1 when there is no such run,
 * or the lacking-keys reply (lua/workflow-shared.ts).
 */
export const releaseWorkflowRunScript = luaScript(
  "stemWfReleaseRun",
  "variable",
  `${workflowRunLua(1)}
local run = load_run(KEYS[1])
if not run then return -1 end
if run.ownerId ~= ARG[1] or fenced(run, ARG[2]) then return 0 end
local lacking = lacking_keys({}, { run })
if lacking then return lacking end
local old = copy_run(run)
run.ownerId = nil
run.leaseExpiresAt = nil
save_run(KEYS[1], run, old)
return 1
`,
);
