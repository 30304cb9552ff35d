import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Takes a run's execution lease for one execution when it is free or expired, with the
 * next fencing token; a repeat by the holder extends the lease and keeps its token. A
 * finished run cannot be claimed.
 *
 * KEYS: workflowRun(id)
 * ARGV: workflowPrefix, owner, now, leaseExpiresAt
 * Returns the claim's fencing token, 0 when refused, -1 when there is no such run.
 */
export const claimWorkflowRunScript = luaScript(
  "stemWfClaimRun",
  1,
  `${WORKFLOW_RUN}
local run = load_run(KEYS[1])
if not run then return -1 end
if FINISHED[run.status] then return 0 end
local owner, now = ARGV[2], tonumber(ARGV[3])
local held = run.ownerId and run.leaseExpiresAt and tonumber(run.leaseExpiresAt) > now
if held and run.ownerId ~= owner then return 0 end
local old = copy_run(run)
if not held or run.ownerId ~= owner then
  run.fencingToken = tostring(tonumber(run.fencingToken or '0') + 1)
end
run.ownerId = owner
run.leaseExpiresAt = ARGV[4]
save_run(KEYS[1], run, old)
return tonumber(run.fencingToken)
`,
);
