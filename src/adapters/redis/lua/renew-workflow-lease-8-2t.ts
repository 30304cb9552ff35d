import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Extends a run's execution lease if `owner` (with a fence, that claim) still holds it
 * and it has not expired.
 *
 * KEYS: workflowRun(id), the run indexes, waiting and watchers keys per topic
 * ARG: owner, now, leaseExpiresAt, fence ('' = any claim of owner)
 * Returns 1 when renewed, 0 when the owner no longer holds it, -1 when there is no such
 * run, or the lacking-keys reply (lua/workflow-shared.ts).
 */
export const renewWorkflowLeaseScript = luaScript(
  "stemWfRenewLease",
  "variable",
  `${workflowRunLua(1)}
local run = load_run(KEYS[1])
if not run then return -1 end
local owner, now = ARG[1], tonumber(ARG[2])
if run.ownerId ~= owner or fenced(run, ARG[4]) then return 0 end
if not run.leaseExpiresAt or tonumber(run.leaseExpiresAt) <= now then return 0 end
local lacking = lacking_keys({}, { run })
if lacking then return lacking end
local old = copy_run(run)
run.leaseExpiresAt = ARG[3]
save_run(KEYS[1], run, old)
return 1
`,
);
