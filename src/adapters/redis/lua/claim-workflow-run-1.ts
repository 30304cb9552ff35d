import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Takes a run's execution lease when it is free, expired, or already the owner's; a
 * finished run cannot be claimed.
 *
 * KEYS: workflowRun(id)
 * ARGV: workflowPrefix, owner, now, leaseExpiresAt
 * Returns 1 when claimed, 0 when refused, -1 when there is no such run.
 */
export const claimWorkflowRunScript = luaScript(
  "stemWfClaimRun",
  1,
  `${WORKFLOW_RUN}
local run = load_run(KEYS[1])
if not run then return -1 end
if FINISHED[run.status] then return 0 end
local owner, now = ARGV[2], tonumber(ARGV[3])
local live = run.ownerId and run.leaseExpiresAt and tonumber(run.leaseExpiresAt) > now
if live and run.ownerId ~= owner then return 0 end
local old = copy_run(run)
run.ownerId = owner
run.leaseExpiresAt = ARGV[4]
save_run(KEYS[1], run, old)
return 1
`,
);
