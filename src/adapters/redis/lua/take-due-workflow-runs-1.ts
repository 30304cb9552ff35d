import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Takes up to `limit` suspended runs due at `now`, earliest first: each is hidden until
 * `redeliverAt` (offered again then unless resumed or cancelled meanwhile) and loses its
 * event watcher, so a late event cannot resume it as well. One script, so two callers
 * never take the same run.
 *
 * KEYS: workflowDue
 * ARGV: workflowPrefix, now, limit, redeliverAt
 * Returns the ids taken.
 */
export const takeDueWorkflowRunsScript = luaScript(
  "stemWfTakeDueRuns",
  1,
  `${WORKFLOW_RUN}
local limit = tonumber(ARGV[3])
local taken = {}
if limit < 1 then return taken end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, limit)
for _, id in ipairs(ids) do
  local key = run_key(id)
  local run = load_run(key)
  if not run or run.status ~= 'suspended' then
    redis.call('ZREM', KEYS[1], id)
  else
    local old = copy_run(run)
    run.dueAt = ARGV[4]
    clear_watcher(run)
    save_run(key, run, old)
    taken[#taken + 1] = id
  end
end
return taken
`,
);
