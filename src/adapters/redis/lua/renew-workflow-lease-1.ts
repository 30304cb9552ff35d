import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Extends a run's execution lease if `owner` (with a fence, that claim) still holds it
 * and it has not expired.
 *
 * KEYS: workflowRun(id)
 * ARGV: workflowPrefix, owner, now, leaseExpiresAt, fence ('' = any claim of owner)
 * Returns 1 when renewed, 0 when the owner no longer holds it, -1 when there is no such run.
 */
export const renewWorkflowLeaseScript = luaScript(
  "stemWfRenewLease",
  1,
  `${WORKFLOW_RUN}
local run = load_run(KEYS[1])
if not run then return -1 end
local owner, now = ARGV[2], tonumber(ARGV[3])
if run.ownerId ~= owner or fenced(run, ARGV[5]) then return 0 end
if not run.leaseExpiresAt or tonumber(run.leaseExpiresAt) <= now then return 0 end
local old = copy_run(run)
run.leaseExpiresAt = ARGV[4]
save_run(KEYS[1], run, old)
return 1
`,
);
