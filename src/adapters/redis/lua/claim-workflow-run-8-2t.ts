import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Takes a run's execution lease for one execution when it is free or expired, with the
 * next fencing token; a repeat by the holder extends the lease and keeps its token. A
 * finished run cannot be claimed.
 *
 * KEYS: workflowRun(id), the run indexes, waiting and watchers keys per topic
 * ARG: owner, now, leaseExpiresAt
 * Returns the claim's fencing token, 0 when refused, -1 when there is no such run, or
 * the lacking-keys reply (lua/workflow-shared.ts).
 */
export const claimWorkflowRunScript = luaScript(
  "stemWfClaimRun",
  "variable",
  `${workflowRunLua(1)}
local run = load_run(KEYS[1])
if not run then return -1 end
if FINISHED[run.status] then return 0 end
local owner, now = ARG[1], tonumber(ARG[2])
local held = run.ownerId and run.leaseExpiresAt and tonumber(run.leaseExpiresAt) > now
if held and run.ownerId ~= owner then return 0 end
local lacking = lacking_keys({}, { run })
if lacking then return lacking end
local old = copy_run(run)
if not held or run.ownerId ~= owner then
  run.fencingToken = tostring(tonumber(run.fencingToken or '0') + 1)
end
run.ownerId = owner
run.leaseExpiresAt = ARG[3]
save_run(KEYS[1], run, old)
return tonumber(run.fencingToken)
`,
);
